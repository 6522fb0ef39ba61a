"""Recordings: trials of binned spike counts or continuous signals, with the bin width in
milliseconds, read from arrays, `.npz`, HDF5 or NWB, checked before anything compiles.
`load_grasshopper` cuts a real recording bundled with nitime into trials."""

from ._binning import BinnedSpikes as BinnedSpikes, bin_spike_times as bin_spike_times
from ._examples import (
    GRASSHOPPER_SOURCE as GRASSHOPPER_SOURCE,
    load_grasshopper as load_grasshopper,
)
from ._load import (
    load_hdf5_recording as load_hdf5_recording,
    load_npz_recording as load_npz_recording,
    load_nwb_recording as load_nwb_recording,
    load_recording as load_recording,
    save_recording as save_recording,
)
from ._recording import (
    KINDS as KINDS,
    Recording as Recording,
    bootstrap_indices as bootstrap_indices,
)
