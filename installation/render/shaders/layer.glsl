// One scene layer: crossfade between two keyframes, scaled to cover the canvas, at an opacity.
#ifdef VERTEX_SHADER
in vec2 in_pos;
in vec2 in_uv;
out vec2 v_uv;
uniform vec2 u_scale;   // fraction of the texture shown per axis (<1 crops around the centre)
void main() {
    // frames are uploaded top row first, so flip v to show them upright
    vec2 uv = vec2(in_uv.x, 1.0 - in_uv.y);
    v_uv = (uv - 0.5) * u_scale + 0.5;
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
#endif

#ifdef FRAGMENT_SHADER
in vec2 v_uv;
out vec4 f_color;
uniform sampler2D u_tex_a;
uniform sampler2D u_tex_b;
uniform float u_mix;
uniform float u_opacity;
void main() {
    vec3 a = texture(u_tex_a, v_uv).rgb;
    vec3 b = texture(u_tex_b, v_uv).rgb;
    f_color = vec4(mix(a, b, u_mix), u_opacity);
}
#endif
