from lit_kgns.commands.entry import main

if __name__ == "__main__":
    main()
