"""Preference data: a prompt with a preferred and a dispreferred answer, and everything around it.

* :mod:`.model` — the preference example and its dataset settings;
* :mod:`.rules` — the service limits and rule identifiers with their sources;
* :mod:`.records` — one JSON record of any known preference shape → one example, and the table header mapping;
* :mod:`.formats` — reading preference files, and telling them apart from supervised ones;
* :mod:`.writers` — writing them, and the exact upload file;
* :mod:`.check` — what ``check`` and ``convert`` need;
* :mod:`.validation` — findings in plain words, once over a file or incrementally while editing;
* :mod:`.from_review` — blind-review votes and corrections turned into preference examples, and the
  supervised set Google recommends tuning on first;
* :mod:`.spec` — the preference-tuning, continued-tuning and rebase requests, and the estimate;
* :mod:`.catalog` — what ``models.json`` says each base model accepts, and when it retires;
* :mod:`.lineage` — where a recorded job started, in words.

Qt-free, like the rest of ``core``.
"""
