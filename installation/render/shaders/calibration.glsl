// Calibration pass: one draw per output applies corner pin + mesh warp (geometry), soft-edge
// blend, per-channel colour correction and masks (fragment).
//
// The warp is forward: the vertex stage places a tessellated grid at its calibrated position
// with the homography's w kept in gl_Position, so the GPU interpolates content coordinates
// projectively (exact for a pure corner pin).  Profile coordinates are y-down; textures follow
// GL convention (row 0 at the bottom), hence the flips.

#ifdef VERTEX_SHADER
in vec3 in_pos;   // (X, Y, W): homogeneous output position, normalised 0..1, y down
in vec2 in_uv;    // content coordinate in the output's canvas region, 0..1, y down
out vec2 v_src;

void main() {
    gl_Position = vec4(2.0 * in_pos.x - in_pos.z, in_pos.z - 2.0 * in_pos.y, 0.0, in_pos.z);
    v_src = in_uv;
}
#endif

#ifdef FRAGMENT_SHADER
uniform sampler2D u_canvas;
uniform sampler2D u_mask;
uniform vec2 u_canvas_size;
uniform vec4 u_region;        // x, y, w, h in canvas pixels (y down)
uniform vec4 u_viewport;      // x, y, w, h of the output in the framebuffer (GL pixels)
uniform vec4 u_blend_width;   // left, right, top, bottom (canvas pixels)
uniform vec4 u_blend_curve;   // Bourke's exponent per side
uniform vec4 u_blend_gamma;   // display gamma per side
uniform vec3 u_gamma;
uniform vec3 u_brightness;
uniform vec3 u_black;
uniform bool u_black_everywhere;

in vec2 v_src;
out vec4 f_color;

// Bourke's blend: f(t) + f(1 - t) == 1 for every t, so two facing ramps add to one.
float bourke(float t, float p) {
    t = clamp(t, 0.0, 1.0);
    return t < 0.5 ? 0.5 * pow(2.0 * t, p) : 1.0 - 0.5 * pow(2.0 * (1.0 - t), p);
}

// Encoded for the display gamma: the projector turns v into v^gamma light, so light scales by f.
float ramp(float d, float width, float p, float g) {
    if (width <= 0.0 || d >= width) return 1.0;
    return pow(bourke(d / width, p), 1.0 / g);
}

float channel_gamma(float c, float g) {
    return g == 1.0 ? c : pow(max(c, 0.0), 1.0 / g);  // exact when uncorrected
}

void main() {
    vec2 px = u_region.xy + v_src * u_region.zw;
    vec2 uv = vec2(px.x / u_canvas_size.x, 1.0 - px.y / u_canvas_size.y);
    vec3 c = texture(u_canvas, uv).rgb;

    c = vec3(channel_gamma(c.r, u_gamma.r), channel_gamma(c.g, u_gamma.g), channel_gamma(c.b, u_gamma.b));
    c *= u_brightness;

    vec4 d = vec4(v_src.x * u_region.z, (1.0 - v_src.x) * u_region.z,
                  v_src.y * u_region.w, (1.0 - v_src.y) * u_region.w);  // distance to each edge
    float b = ramp(d.x, u_blend_width.x, u_blend_curve.x, u_blend_gamma.x)
            * ramp(d.y, u_blend_width.y, u_blend_curve.y, u_blend_gamma.y)
            * ramp(d.z, u_blend_width.z, u_blend_curve.z, u_blend_gamma.z)
            * ramp(d.w, u_blend_width.w, u_blend_curve.w, u_blend_gamma.w);
    bool in_blend = any(lessThan(d, u_blend_width));
    c *= b;

    if (u_black_everywhere || !in_blend) {
        c = u_black + (vec3(1.0) - u_black) * c;
    }

    vec2 mask_uv = (gl_FragCoord.xy - u_viewport.xy) / u_viewport.zw;
    c *= texture(u_mask, mask_uv).r;
    f_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
#endif
