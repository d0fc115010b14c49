"""GL side of the frame path: context, texture upload, compositor, calibration pass."""
