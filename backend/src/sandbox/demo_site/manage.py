#!/usr/bin/env python3
"""The demo site's commands: `python manage.py migrate`, `collectstatic`, ..."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
