"""The homeworks, one folder each, named like the assignment (``autograder/registry.py`` says what a
folder holds and how the engine finds it).

``DLHW_HOMEWORKS`` (folders separated by ``os.pathsep``) names more places to look: a course's own
homeworks, kept outside this repository, are found there as these are here.
"""

import os

__path__ = [*__path__, *(p for p in os.environ.get("DLHW_HOMEWORKS", "").split(os.pathsep) if p)]
