"""`python -m paperlens ...`: the same CLI as the `paperlens` command."""

from paperlens.cli import main

if __name__ == "__main__":
    main()
