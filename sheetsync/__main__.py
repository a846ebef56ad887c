from sheetsync.cli import main

main(prog_name="sheetsync")
