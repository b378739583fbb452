"""nabla-atheris: coverage-guided fuzzing of automatic differentiation."""
