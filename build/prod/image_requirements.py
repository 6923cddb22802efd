"""Derive the image's pip inputs from pyproject.toml, at build time (runs inside the Containerfiles).

pyproject.toml is the single source of truth for the project's dependencies: this script turns a
dependency list of it (``[project] dependencies``, or a ``[dependency-groups]`` group) into a
requirements file, so nothing is copied by hand into a second requirements file that could drift.

It also writes the constraints the install runs against: the Airflow constraints the official image
was built with (``${HOME}/constraints.txt`` in ``apache/airflow`` images), minus every package the
project pins exactly (``name==version``). pip refuses a requirement that contradicts a constraint,
and our exact pins are tested choices that must win: the providers newer than the Airflow release,
and celery 5.6.3 because 5.7.0 breaks the celery provider 3.26.0. Every other package stays on the
version Airflow was released and tested with.
https://airflow.apache.org/docs/docker-stack/build.html#adding-new-pypi-packages

Usage: python image_requirements.py PYPROJECT CONSTRAINTS OUT_DIR [--group NAME]
Writes OUT_DIR/requirements.txt and OUT_DIR/constraints.txt. Only the standard library and
``packaging`` (a dependency of Airflow, so present in the image) are used.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


def project_requirements(pyproject: dict[str, object], group: str | None = None) -> list[str]:
    """The requirement strings of ``[project] dependencies``, or of one ``[dependency-groups]`` group."""
    if group is None:
        project = pyproject.get("project")
        deps = project.get("dependencies") if isinstance(project, dict) else None
        where = "[project] dependencies"
    else:
        groups = pyproject.get("dependency-groups")
        deps = groups.get(group) if isinstance(groups, dict) else None
        where = f"[dependency-groups] {group}"
    if not isinstance(deps, list) or not deps:
        raise ValueError(f"pyproject.toml has no {where}")
    if not all(isinstance(item, str) for item in deps):
        raise ValueError(f"{where} may only hold requirement strings (group includes are not supported)")
    for item in deps:
        try:
            Requirement(item)
        except InvalidRequirement as error:
            raise ValueError(f"{where}: {item!r} is not a valid requirement ({error})") from None
    return list(deps)


def exactly_pinned(requirements: Iterable[str]) -> dict[str, str]:
    """Canonical name -> version of the requirements pinned with a single ``==``."""
    pinned: dict[str, str] = {}
    for item in requirements:
        requirement = Requirement(item)
        specifiers = list(requirement.specifier)
        if len(specifiers) == 1 and specifiers[0].operator == "==" and "*" not in specifiers[0].version:
            pinned[canonicalize_name(requirement.name)] = specifiers[0].version
    return pinned


def constraints_without(constraints: str, names: Iterable[str]) -> str:
    """The constraints text with the lines of ``names`` (canonical names) removed; comments are kept."""
    dropped = {canonicalize_name(name) for name in names}
    kept: list[str] = []
    for line in constraints.splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                name = canonicalize_name(Requirement(text).name)
            except InvalidRequirement:
                raise ValueError(f"constraints line {line!r} is not a requirement") from None
            if name in dropped:
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def write_inputs(pyproject_path: Path, constraints_path: Path, out_dir: Path, group: str | None = None) -> list[str]:
    """Write requirements.txt and constraints.txt into ``out_dir``; return the requirement lines."""
    pyproject = tomllib.loads(pyproject_path.read_text(encoding="utf-8"))
    requirements = project_requirements(pyproject, group)
    constraints = constraints_without(constraints_path.read_text(encoding="utf-8"), exactly_pinned(requirements))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    (out_dir / "constraints.txt").write_text(constraints, encoding="utf-8")
    return requirements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("constraints", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--group", help="a [dependency-groups] group instead of [project] dependencies")
    args = parser.parse_args(argv)
    try:
        requirements = write_inputs(args.pyproject, args.constraints, args.out_dir, args.group)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as error:
        print(f"image_requirements: {error}", file=sys.stderr)
        return 1
    print(f"image_requirements: {len(requirements)} requirements written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
