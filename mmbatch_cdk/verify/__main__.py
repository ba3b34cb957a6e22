"""``python -m mmbatch_cdk.verify verify --stack NAME``: the same as the ``mmbatch-cdk`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
