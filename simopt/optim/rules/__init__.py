"""The built-in update rules, one module each.  ``simopt.optim`` imports every module here and exports
the constructors each lists in ``__all__``: adding a rule is adding a file."""
