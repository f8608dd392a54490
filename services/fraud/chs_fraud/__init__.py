"""The fraud service (基金监管): the fraud processor (faust) and the auditors' case work."""
