"""The studies: protocol runners, multi-seed experiments, tables and figures.

Study code lives here, apart from :mod:`emgcore` (which the app imports and
which never imports this package), so the runtime path stays small:

- the clinical disease study (these top-level modules), run module by module,
  ``python -m studies.run_features ...`` (the order: scripts/results_clinical.sh);
- the CNN-TCN paper's protocols and their report (:mod:`studies.disease_paper`,
  :mod:`studies.disease_report`) and the gesture adaptation experiments
  (:mod:`studies.gesture`), run as ``python -m studies evaluate ...`` and
  ``python -m studies gesture experiment ...`` (:mod:`studies.cli`).

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
