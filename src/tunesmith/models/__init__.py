"""Models: one file per family, each a config dataclass beside the nn.Modules it builds and their loss."""
