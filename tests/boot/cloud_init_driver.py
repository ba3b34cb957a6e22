"""Run under Debian's /usr/bin/python3 (where cloud-init lives), not the project's venv: what cloud-init makes of
user data documents. stdin: a JSON object {key: document}; stdout: {key: {"parts": [...], "run": [...]}}.

For each document: cloud-init's own ``UserDataProcessor`` (MIME walk, gzip parts decompressed and typed by their
first line), then its ``handlers.walk`` with its ``ShellScriptPartHandler``, which writes each shell-script part to
the instance's scripts directory; ``run`` is that directory in the order ``cc_scripts_user`` runs it
(``subp.runparts``: sorted file names). ``parts`` lists every part's content type, handled or not.
"""

import json
import os
import sys
import tempfile

from cloudinit import handlers, helpers, user_data
from cloudinit.handlers.shell_script import ShellScriptPartHandler
from cloudinit.settings import PER_INSTANCE


def process(document: str, root: str) -> dict:
    paths = helpers.Paths({"cloud_dir": os.path.join(root, "cloud"), "run_dir": os.path.join(root, "run")})
    message = user_data.UserDataProcessor(paths).process(document)
    shell = ShellScriptPartHandler(paths)
    parts = []

    def callback(_data, filename, payload, headers):
        content_type = headers["Content-Type"]
        parts.append({"type": content_type, "file": filename})
        if content_type in shell.list_types():
            shell.handle_part(None, content_type, filename, payload, PER_INSTANCE)

    handlers.walk(message, callback, None)
    names = sorted(os.listdir(shell.script_dir)) if os.path.isdir(shell.script_dir) else []
    run = []
    for name in names:
        with open(os.path.join(shell.script_dir, name), encoding="utf-8") as f:
            run.append({"file": name, "script": f.read()})
    return {"parts": parts, "run": run}


def main() -> None:
    documents = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as root:
        result = {key: process(document, os.path.join(root, str(i))) for i, (key, document) in enumerate(documents.items())}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
