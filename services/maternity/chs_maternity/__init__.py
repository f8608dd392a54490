"""The maternity service (生育待遇): the maternity allowance (生育津贴)."""
