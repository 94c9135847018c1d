"""Gesture adaptation: adapt a pretrained gesture recogniser to one person.

A Django app inside the clinic package (label ``gestures``): pretrained gesture
checkpoints (:class:`GestureModel`), one person's calibration upload and its
adaptation job (:class:`GestureSession`), web pages and ``/api/v1/gestures``.
"""
