"""Offline data: datasets read as wc transitions through an environment's adapter, and imported
into the store.

* `read_jsonl(path, adapter)`: JSON lines, the form of CWMB's datasets (`jsonl.py`: how
  truncation is told from termination);
* `read_minari(dataset_id, adapter)`: a Minari dataset in the local Minari root (`minari_data.py`);
* `cwmb`: the Code World Models Benchmark's environments and its datasets, shipped with wc;
* `import_dataset(store, adapter, source)`: the transitions into the store in bulk, marked as
  imported (`importing.py`).

Each returns or takes a `DatasetSource`, whose `transitions()` streams `wc._store.DataTransition`
values. Bad data is a `wc.errors.DatasetError` that says where.
"""
from wc.datasets import cwmb
from wc.datasets.importing import import_dataset
from wc.datasets.jsonl import read_jsonl, step_limit
from wc.datasets.minari_data import read_minari, space_mismatch
from wc.datasets.source import DatasetSource, Encoder

__all__ = ["DatasetSource", "Encoder", "cwmb", "import_dataset", "read_jsonl", "read_minari", "space_mismatch",
           "step_limit"]
