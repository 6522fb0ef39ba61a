"""Recordings: trials of binned spike counts or continuous signals, with the bin width in
milliseconds, read from arrays, `.npz`, HDF5 or NWB, checked before anything compiles."""

from ._binning import BinnedSpikes as BinnedSpikes
from ._binning import bin_spike_times as bin_spike_times
from ._load import (
    load_hdf5_recording as load_hdf5_recording,
)
from ._load import (
    load_npz_recording as load_npz_recording,
)
from ._load import (
    load_nwb_recording as load_nwb_recording,
)
from ._load import (
    load_recording as load_recording,
)
from ._load import (
    save_recording as save_recording,
)
from ._recording import (
    KINDS as KINDS,
)
from ._recording import (
    Recording as Recording,
)
from ._recording import (
    bootstrap_indices as bootstrap_indices,
)
