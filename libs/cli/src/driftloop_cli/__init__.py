"""The ``driftloop`` command-line tool and the embedded local stack."""
