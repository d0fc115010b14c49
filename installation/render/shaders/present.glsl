// Final pass from the canvas to an output: global brightness (calibration replaces this pass).
#ifdef VERTEX_SHADER
in vec2 in_pos;
in vec2 in_uv;
out vec2 v_uv;
void main() {
    v_uv = in_uv;
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
#endif

#ifdef FRAGMENT_SHADER
in vec2 v_uv;
out vec4 f_color;
uniform sampler2D u_canvas;
uniform float u_brightness;
void main() {
    f_color = vec4(texture(u_canvas, v_uv).rgb * u_brightness, 1.0);
}
#endif
