// Calibration overlay: handles, outlines and the help card drawn over an output while editing.
// Positions are normalised output coordinates, y down; textured mode draws a text card.

#ifdef VERTEX_SHADER
in vec2 in_pos;
in vec2 in_uv;
out vec2 v_uv;

void main() {
    gl_Position = vec4(2.0 * in_pos.x - 1.0, 1.0 - 2.0 * in_pos.y, 0.0, 1.0);
    v_uv = in_uv;
}
#endif

#ifdef FRAGMENT_SHADER
uniform vec4 u_color;
uniform bool u_textured;
uniform sampler2D u_texture;
in vec2 v_uv;
out vec4 f_color;

void main() {
    f_color = u_textured ? texture(u_texture, v_uv) * u_color : u_color;
}
#endif
