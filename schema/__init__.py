"""The shared language of the SP4N hub: canonical model, life cycle and reference data.

Imports nothing of ours and performs no I/O.
"""
