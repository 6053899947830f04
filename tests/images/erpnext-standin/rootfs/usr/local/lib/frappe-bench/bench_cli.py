"""Stand-in for frappe-bench's own commands (not Frappe's): `bench get-app`.

As bench/app.py `get_app` and bench/utils/app.py do it, for what the image's builds need: `git clone URL [--branch
REF] --origin upstream` into apps/ (a URL, or a local repository: a commit is checked out there first), the app's
name from its pyproject.toml (the folder is renamed to it), `pip install -e` (here: the app's folder on the bench's
Python path), the app appended to sites/apps.txt, then `bench build --app APP` unless --skip-assets.
"""

import argparse
import os
import shlex
import subprocess
import sys
import sysconfig

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None


class CommandFailedError(Exception):
    pass


def run(cmd, cwd):
    """bench.utils.exec_cmd: echo the command, run it, fail as bench does."""
    print(f"$ {cmd}", flush=True)
    result = subprocess.run(shlex.split(cmd), cwd=cwd, check=False)
    if result.returncode:
        raise CommandFailedError(
            f"subprocess.CalledProcessError: Command '{cmd}' returned non-zero exit status {result.returncode}."
        )


def is_bench_directory(path):
    return all(os.path.exists(os.path.join(path, name)) for name in ("apps", "sites", "env", "sites/apps.txt"))


def app_name_of(app_path, folder):
    """bench.utils.app.get_app_name: the [project] name of pyproject.toml, else the folder's name."""
    pyproject = os.path.join(app_path, "pyproject.toml")
    if tomllib and os.path.exists(pyproject):
        with open(pyproject, "rb") as handle:
            name = (tomllib.load(handle).get("project") or {}).get("name")
        if name:
            return name.strip().replace("-", "_")
    return folder


def repo_of(url):
    """The folder `git clone` makes: the URL's (or path's) last part without .git."""
    base = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return base[:-4] if base.endswith(".git") else base


def get_app(bench, url, branch, overwrite, skip_assets):
    apps_dir = os.path.join(bench, "apps")
    repo = repo_of(url)
    print(f"Getting {repo}", flush=True)
    target = os.path.join(apps_dir, repo)
    if os.path.exists(target):
        if not overwrite:
            print(
                f"A directory for the application '{repo}' already exists. "
                "Do you want to continue and overwrite it? [y/N]: ",
                end="",
                flush=True,
            )
            answer = sys.stdin.readline()
            if answer.strip().lower() not in ("y", "yes"):
                print("\nAborted!", file=sys.stderr)
                return 1
        subprocess.run(["rm", "-rf", target], check=True)
    branch_arg = f"--branch {shlex.quote(branch)} " if branch else ""
    run(f"git clone {shlex.quote(url)} {branch_arg}--origin upstream", cwd=apps_dir)
    name = app_name_of(target, repo)
    if name != repo:
        os.rename(target, os.path.join(apps_dir, name))
    app_path = os.path.join(apps_dir, name)
    if not os.path.isdir(os.path.join(app_path, name)):
        raise CommandFailedError(f"bench.exceptions.InvalidRemoteException: {url} is not a Frappe app ({name}/ missing)")
    print(f"Installing {name}", flush=True)
    print(f"$ {bench}/env/bin/python -m pip install --quiet --upgrade -e {app_path}", flush=True)
    purelib = subprocess.run(
        [os.path.join(bench, "env/bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip() or sysconfig.get_paths()["purelib"]
    pth = os.path.join(purelib, "frappe-bench-apps.pth")
    with open(pth) as handle:
        paths = handle.read().split()
    if app_path not in paths:
        with open(pth, "a") as handle:
            handle.write(app_path + "\n")
    apps_txt = os.path.join(bench, "sites", "apps.txt")
    with open(apps_txt) as handle:
        listed = [line.strip() for line in handle if line.strip()]
    if name not in listed:
        with open(apps_txt, "w") as handle:
            handle.write("\n".join(listed + [name]) + "\n")
    if not skip_assets:
        run(f"bench build --app {name}", cwd=bench)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="bench get-app")
    parser.add_argument("name", nargs="*")
    parser.add_argument("--branch")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--skip-assets", action="store_true")
    parser.add_argument("--soft-link", action="store_true")
    parser.add_argument("--init-bench", action="store_true")
    parser.add_argument("--resolve-deps", action="store_true")
    args = parser.parse_args(argv)
    if not args.name:
        parser.error("Missing argument 'GIT_URL'.")
    url = args.name[-1]
    bench = os.getcwd()
    if not is_bench_directory(bench):
        print(
            f"bench.exceptions.NotInBenchDirectoryError: {os.path.realpath(bench)} is not a valid bench directory. "
            "Run with --init-bench if you'd like to create a Bench too.",
            file=sys.stderr,
        )
        return 1
    if args.soft_link or args.resolve_deps or args.init_bench:
        print("the test stand-in does not emulate --soft-link, --resolve-deps or --init-bench", file=sys.stderr)
        return 2
    try:
        return get_app(bench, url, args.branch, args.overwrite, args.skip_assets)
    except CommandFailedError as err:
        print(err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
