from local_twin.cli import main

raise SystemExit(main())
