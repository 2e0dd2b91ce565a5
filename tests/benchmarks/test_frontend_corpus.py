"""benchmarks/frontend_corpus.py on a real Debian package built here: its files, the audio
inside its zip archives (Warzone's .wz, Quake-style .pk3) and their licences."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks import frontend_corpus as fc
from benchmarks import real_sounds as rs

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: sounds/birds/*
Copyright: 2021 Someone Else
License: CC-BY-3.0
"""


def _wav(seconds: float = 0.5) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    sf.write(buf, rng.normal(0, 0.1, int(rs.SR * seconds)).astype(np.float32), rs.SR, format="WAV")
    return buf.getvalue()


def _build_deb(tmp: Path, name: str) -> Path:
    """A real .deb: a plain sound, a symlink to it, a .pk3 (zip) holding two sounds and a
    text file, and a DEP5 copyright file."""
    tree = tmp / "tree"
    games = tree / "usr/share/games/demo"
    (games / "sounds/birds").mkdir(parents=True)
    (games / "sounds/birds/robin_1.wav").write_bytes(_wav())
    (games / "sounds/link.wav").symlink_to("birds/robin_1.wav")
    with zipfile.ZipFile(games / "pak0.pk3", "w") as pk3:
        pk3.writestr("sound/items/Bell-2.wav", _wav())
        pk3.writestr("sound/birds/crow.wav", _wav())
        pk3.writestr("scripts/readme.txt", "not audio")
    doc = tree / "usr/share/doc" / name
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)
    (tree / "DEBIAN").mkdir()
    (tree / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: 1.0-1\nArchitecture: all\n"
        "Maintainer: Nobody <nobody@example.org>\nDescription: demo sounds\n"
    )
    debs = tmp / "cache/debs"
    debs.mkdir(parents=True)
    deb = debs / f"{name}_1.0-1_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)],
        check=True,
        capture_output=True,
    )
    return tmp / "cache"


def test_audio_inside_pk3_archives_is_listed_with_its_licence(tmp_path):
    cache = _build_deb(tmp_path, "demo-data")
    root = rs.fetch_package("demo-data", cache, ("*",))
    fc.expand_archives("demo-data", root, cache)
    files, links = fc.package_files("demo-data", root)

    by_path = {f.path: f for f in files}
    plain = "usr/share/games/demo/sounds/birds/robin_1.wav"
    member = "usr/share/games/demo/pak0.pk3::sound/items/Bell-2.wav"
    bird_member = "usr/share/games/demo/pak0.pk3::sound/birds/crow.wav"
    assert set(by_path) == {plain, member, bird_member}
    assert links == 1
    # Each file's own DEP5 paragraph; an archive member by its path inside the archive.
    assert by_path[plain].licence == "CC-BY-3.0"
    assert by_path[member].licence == "GPL-2+"
    # The member was written out and is the audio that was packed.
    audio, rate = sf.read(by_path[member].file)
    assert rate == rs.SR and len(audio) == rs.SR // 2

    # A second call finds the archives already expanded and changes nothing.
    fc.expand_archives("demo-data", root, cache)
    assert {f.path for f in fc.package_files("demo-data", root)[0]} == set(by_path)


def test_takes_of_one_sound_share_a_group():
    assert fc.group_of("p", "a/b/step1.wav") == fc.group_of("p", "a/b/Step_2.ogg") == "p:a/b/step"
    assert fc.group_of("p", "a/b/step1.wav") != fc.group_of("p", "a/c/step1.wav")
    assert fc.group_of("p", "x.pk3::sound/items/Bell-2.wav") == "p:x.pk3::sound/items/bell"


def test_a_hydrogen_kit_takes_the_licence_of_the_tarball_it_came_from():
    stanzas = rs.parse_dep5(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: x\nLicense: GPL-2+\n\n"
        "Files:\n drumkits/Audiophob.h2drumkit\n drumkits/Other.h2drumkit\n"
        "Copyright: y\nLicense: CC-BY-3.0\n"
    )
    kit = "usr/share/hydrogen/data/drumkits"
    assert fc.licence_of("hydrogen-drumkits", stanzas, f"{kit}/Audiophob/tom1.wav") == "CC-BY-3.0"
    assert fc.licence_of("hydrogen-drumkits", stanzas, f"{kit}/GMkit/kick.flac") == "GPL-2+"
    # A path no mapping covers is matched by its installed path, as elsewhere.
    assert fc.licence_of("hydrogen-drumkits", stanzas, "usr/share/doc/x.wav") == "GPL-2+"
