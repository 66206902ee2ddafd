from monoculture.cli import main

main()
