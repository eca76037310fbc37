# The web process of a static site: serves the app's files on $PORT, never
# its dotfiles or dot-directories (.env, .git*, .slugignore, ...) and, unless
# static.json names the directory to serve ("root", as Heroku's static
# buildpack reads it), not the app's own app.json, Procfile or static.json.
import functools
import http.server
import json
import os
import sys
import urllib.parse

APP_FILES = {"app.json", "Procfile", "static.json"}


def within(real, top):
    """Whether real (a resolved path) is top or below it."""
    return real == top or real.startswith(top + "/")


def settings():
    try:
        with open("static.json") as f:
            conf = json.load(f)
    except FileNotFoundError:
        return ".", APP_FILES
    except (OSError, ValueError) as e:
        sys.exit("static.json: %s" % e)
    root = conf.get("root") if isinstance(conf, dict) else None
    if root is None:
        return ".", APP_FILES
    top = os.path.realpath(".")
    real = os.path.realpath(root) if isinstance(root, str) else ""
    if not os.path.isdir(real) or not within(real, top):
        sys.exit("static.json: \"root\" must name a directory of the app")
    return root, set()


ROOT, WITHHELD = settings()
REAL_ROOT = os.path.realpath(ROOT)


def hidden(rel):
    """Whether rel (a path below the root) may not be served."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if any(p.startswith(".") for p in parts):
        return True
    return len(parts) == 1 and parts[0] in WITHHELD


class Handler(http.server.SimpleHTTPRequestHandler):
    def send_head(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        real = os.path.realpath(self.translate_path(self.path))
        inside = within(real, REAL_ROOT)
        if hidden(path) or not inside or hidden(os.path.relpath(real, REAL_ROOT)):
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):
        self.send_error(404, "File not found")
        return None


def main():
    handler = functools.partial(Handler, directory=ROOT)
    server = http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
