#!/usr/bin/env python3
"""Writes the property names (and link names) of chosen BOSH jobs at one release tag as JSON: the data the
pipeline checker (src/Grains/Pipelines/Verification) checks manifest property paths against.

usage: extract-job-specs.py <release git dir> <tag> <release name> <job>... > templates/bosh/specs/<name>-<version>.json
Needs git and PyYAML. Reads only `git show <tag>:jobs/<job>/spec`; no network."""
import json, subprocess, sys
import yaml

def main():
    repo, tag, name, jobs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    git = lambda *a: subprocess.run(["git", "-C", repo, *a], check=True, capture_output=True, text=True).stdout
    commit = git("rev-parse", tag + "^{commit}").strip()
    out = {"release": name, "version": tag.lstrip("v"), "tag": tag, "commit": commit, "jobs": {}}
    for job in jobs:
        spec = yaml.safe_load(git("show", f"{tag}:jobs/{job}/spec"))
        out["jobs"][job] = {
            "properties": sorted((spec.get("properties") or {}).keys()),
            "provides": sorted(l["name"] for l in spec.get("provides") or []),
            "consumes": sorted(l["name"] for l in spec.get("consumes") or []),
        }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")

main()
