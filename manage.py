#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botaudit.settings")
    if sys.argv[1:2] == ["scan_repo"]:  # the leak scanner: the project's settings, none of its apps
        from scanners.git.cli import project_main

        sys.exit(project_main(os.path.basename(sys.argv[0]), sys.argv[2:]))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
