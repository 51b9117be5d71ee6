"""Reference solutions of the course's homeworks, written with raw tensors (no autograd inside).

- :mod:`solutions.linear_regression`: homework 1, linear and logistic regression by gradient descent.
- :mod:`solutions.mlp`: homework 2, an MLP with hand-written backpropagation.
- :mod:`solutions.optim`, :mod:`solutions.schedules`: homework 3, the optimizer zoo, learning-rate
  schedules and gradient clipping.
- :mod:`solutions.gradcheck`: homework 4, numerical gradients and gradient checking.
- :mod:`solutions.datasets`: the course's datasets and seeded synthetic data.
- :mod:`solutions.verify`: what ``make demo`` runs, every solution checked against PyTorch.
"""
