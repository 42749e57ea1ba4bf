"""PyInstaller entry script of the frozen `xlcost` program (see xlcost/frozen.py)."""

from xlcost.frozen import main

main()
