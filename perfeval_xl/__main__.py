from perfeval_xl.cli import main

raise SystemExit(main())
