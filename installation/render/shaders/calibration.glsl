// Calibration pass: one draw per output applies corner pin + mesh warp (geometry), soft-edge
// blend, per-channel colour correction and masks (fragment).
//
// The warp is forward: the vertex stage places a tessellated grid at its calibrated position
// with the homography's w kept in gl_Position, so the GPU interpolates content coordinates
// projectively (exact for a pure corner pin).  Profile coordinates are y-down; textures follow
// GL convention (row 0 at the bottom), hence the flips.  Each stage is compiled in only when
// the profile uses it (USE_GAMMA, USE_COLOR, USE_BLEND_X, USE_BLEND_Y, USE_MASK), so an identity
// output costs one texture fetch and a side-by-side blend one more.  USE_SUPERSAMPLE (outputs
// that shrink their region by more than 1.5x) averages four taps over each pixel's footprint,
// since the canvas has no mipmaps.

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
uniform sampler2D u_blend_x;  // horizontal soft-edge factors, one texel per region column
uniform sampler2D u_blend_y;  // vertical soft-edge factors, one texel per region row
uniform vec3 u_gamma;
uniform vec3 u_brightness;
uniform vec3 u_black;
uniform bool u_black_everywhere;
uniform float u_gain;         // the show's master brightness (1 = unchanged)

in vec2 v_src;
out vec4 f_color;

float channel_gamma(float c, float g) {
    return g == 1.0 ? c : pow(max(c, 0.0), 1.0 / g);  // exact when uncorrected
}

void main() {
    vec2 px = u_region.xy + v_src * u_region.zw;
    vec2 uv = vec2(px.x / u_canvas_size.x, 1.0 - px.y / u_canvas_size.y);
#ifdef USE_SUPERSAMPLE
    vec2 du = dFdx(uv) * 0.25, dv = dFdy(uv) * 0.25;
    vec3 c = (texture(u_canvas, uv - du - dv).rgb + texture(u_canvas, uv + du - dv).rgb
            + texture(u_canvas, uv - du + dv).rgb + texture(u_canvas, uv + du + dv).rgb) * (0.25 * u_gain);
#else
    vec3 c = texture(u_canvas, uv).rgb * u_gain;
#endif

#ifdef USE_GAMMA
    c = vec3(channel_gamma(c.r, u_gamma.r), channel_gamma(c.g, u_gamma.g), channel_gamma(c.b, u_gamma.b));
#endif
#ifdef USE_COLOR
    c *= u_brightness;
#endif
    bool in_blend = false;
    // Bourke's ramps, baked per pixel (blendmap.py): f(t) + f(1 - t) == 1 in light
#ifdef USE_BLEND_X
    float bx = texture(u_blend_x, vec2(v_src.x, 0.5)).r;
    in_blend = bx < 1.0;
    c *= bx;
#endif
#ifdef USE_BLEND_Y
    float by = texture(u_blend_y, vec2(v_src.y, 0.5)).r;
    in_blend = in_blend || by < 1.0;
    c *= by;
#endif
#ifdef USE_COLOR
    if (u_black_everywhere || !in_blend) {
        c = u_black + (vec3(1.0) - u_black) * c;
    }
#endif
#ifdef USE_MASK
    c *= texture(u_mask, (gl_FragCoord.xy - u_viewport.xy) / u_viewport.zw).r;  // output space, any viewport size
#endif
    f_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
#endif
