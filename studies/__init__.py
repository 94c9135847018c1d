"""The clinical disease study: protocols, runners, metrics and tables.

Study code lives here, apart from :mod:`emgcore` (which the app imports and
which never imports this package), so the runtime path stays small. Run it with
``python -m studies disease ...`` (see :mod:`studies.__main__`).

For a new method (e.g. a network)::

    from emgcore.datasets.clinical import clinical_records
    from studies.protocols import splits_for, PROTOCOL_SEEDS
    from studies.runner import run_unit

    records = clinical_records()                  # both sites, A06BB08 left out
    for seed in PROTOCOL_SEEDS["headline"]:
        for split in splits_for("headline", records, seed):
            run_unit(my_method, split, records, "runs/disease")

``my_method.select_and_fit(train, val)`` gets the train and validation
:class:`~studies.runner.Part` only (records, optional feature rows) and returns
an object with ``predict_proba(part)`` and an ``info`` dict (put the
validation-people probabilities under ``info["val_proba"]`` so calibration can
be fitted on them); :func:`studies.metrics.summarise` turns the units into the
person-level table.
"""
