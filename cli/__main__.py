"""`python -m cli …`, the same as the installed `qinqing …`."""

from cli.main import main

main()
