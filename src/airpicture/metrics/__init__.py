"""Evaluation of air pictures: GOSPA/OSPA, SIAP and ID-SIAP, commonality, NEES and the PCRB.

The core functions take :class:`Samples` (arrays) and return arrays and small result records;
they do no I/O. :mod:`airpicture.metrics.evaluation` runs them all for a recorded run, and
:mod:`airpicture.metrics.report` (imported on demand: it needs matplotlib) renders the report.
Definitions: ``docs/metrics.md`` and each module's docstring.
"""

from airpicture.metrics.align import AlignedTracks, align_tracks
from airpicture.metrics.association import Association, associate
from airpicture.metrics.commonality import commonality
from airpicture.metrics.consistency import anees, nees
from airpicture.metrics.gospa import GOSPAParts, GOSPASeries, gospa, gospa_series, ospa
from airpicture.metrics.id_siap import IDSIAPResult, id_siap, standard_identity_codes
from airpicture.metrics.opportunity import opportunity_truth
from airpicture.metrics.pairs import close_pairs
from airpicture.metrics.pcrb import geometric_visibility, pcrb_position
from airpicture.metrics.samples import Samples, TimeGrid, make_samples, time_grid
from airpicture.metrics.siap import SIAPResult, siap

__all__ = [
    "AlignedTracks",
    "Association",
    "GOSPAParts",
    "GOSPASeries",
    "IDSIAPResult",
    "SIAPResult",
    "Samples",
    "TimeGrid",
    "align_tracks",
    "anees",
    "associate",
    "close_pairs",
    "commonality",
    "geometric_visibility",
    "gospa",
    "gospa_series",
    "id_siap",
    "make_samples",
    "nees",
    "opportunity_truth",
    "ospa",
    "pcrb_position",
    "siap",
    "standard_identity_codes",
    "time_grid",
]
