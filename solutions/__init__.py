"""Reference solutions of the course's homeworks, written with raw tensors (no autograd inside).

- :mod:`solutions.linear_regression`: homework 1, linear and logistic regression by gradient descent.
- :mod:`solutions.gradcheck`: homework 4, numerical gradients and gradient checking.
- :mod:`solutions.datasets`: the course's datasets and seeded synthetic data.
"""
