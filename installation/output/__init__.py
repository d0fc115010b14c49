"""Where frames go: a pygame OpenGL window, and/or a video file."""
