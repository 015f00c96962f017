"""Integer ids of the update rules, shared by ``simopt.optim`` (which sets them) and the kernels
(which dispatch on them)."""
SGD = 0
SIGN = 1
SIGNUM = 2
SVAG = 3
MSVAG = 4
ADAM = 5
RMSPROP = 6
ADAGRAD = 7
NORMALIZED_GD = 8
BLOCK_NORMALIZED = 9
BLOCKWISE_ADAM = 10
GD_ORACLE = 11
SIGN_ORACLE = 12
