"""``python -m gumbelcheck``."""

from gumbelcheck.cli import main

if __name__ == "__main__":
    main()
