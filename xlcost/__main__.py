"""``python -m xlcost`` runs the command-line tool."""

from xlcost.cli import main

main()
