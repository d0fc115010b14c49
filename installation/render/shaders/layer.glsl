// One scene layer: crossfade between two keyframes, placed by its fit (cover / contain /
// stretch, anchor, trim), bars painted the background colour, at an opacity.
// Upscaling samples Catmull-Rom bicubic (16 texel fetches, edges clamped): sharper than
// bilinear on edges and, unlike bilinear, without the visible grid of a 30x enlargement.
// Minifying (frame larger than its place on the canvas) uses the bilinear sampler.
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
uniform sampler2D u_tex_a;
uniform sampler2D u_tex_b;
uniform float u_mix;
uniform float u_opacity;
uniform vec2 u_canvas;      // canvas size in pixels
uniform vec4 u_rect;        // where the frame lands: x, y (top-left, y down), w, h in canvas pixels
uniform vec4 u_uv;          // the texture rectangle shown: u0, v0, u1, v1 (v = 0 is the frame's top row)
uniform vec3 u_background;  // letterbox / pillarbox colour
uniform int u_cubic;        // 1: Catmull-Rom, 0: bilinear
uniform int u_single;       // 1: a and b are the same frame (or mix is 0 or 1): sample once

vec4 catmull_rom(float t) {
    float t2 = t * t, t3 = t2 * t;
    return vec4(-0.5 * t3 + t2 - 0.5 * t,
                1.5 * t3 - 2.5 * t2 + 1.0,
                -1.5 * t3 + 2.0 * t2 + 0.5 * t,
                0.5 * t3 - 0.5 * t2);
}

vec3 sample_cubic(sampler2D tex, vec2 uv) {
    ivec2 size = textureSize(tex, 0);
    vec2 p = uv * vec2(size) - 0.5;
    vec2 i = floor(p);
    vec4 wx = catmull_rom(p.x - i.x);
    vec4 wy = catmull_rom(p.y - i.y);
    ivec2 base = ivec2(i) - 1;
    ivec2 hi = size - 1;
    vec3 acc = vec3(0.0);
    for (int y = 0; y < 4; y++) {
        int ty = clamp(base.y + y, 0, hi.y);
        vec3 row = wx.x * texelFetch(tex, ivec2(clamp(base.x, 0, hi.x), ty), 0).rgb
                 + wx.y * texelFetch(tex, ivec2(clamp(base.x + 1, 0, hi.x), ty), 0).rgb
                 + wx.z * texelFetch(tex, ivec2(clamp(base.x + 2, 0, hi.x), ty), 0).rgb
                 + wx.w * texelFetch(tex, ivec2(clamp(base.x + 3, 0, hi.x), ty), 0).rgb;
        acc += wy[y] * row;
    }
    return clamp(acc, 0.0, 1.0);
}

vec3 sample_frame(sampler2D tex, vec2 uv) {
    return u_cubic == 1 ? sample_cubic(tex, uv) : texture(tex, uv).rgb;
}

void main() {
    vec2 p = vec2(v_uv.x, 1.0 - v_uv.y) * u_canvas;  // this pixel's centre, y down
    vec2 q = (p - u_rect.xy) / u_rect.zw;
    if (q.x < 0.0 || q.y < 0.0 || q.x >= 1.0 || q.y >= 1.0) {
        f_color = vec4(u_background, u_opacity);
        return;
    }
    vec2 uv = mix(u_uv.xy, u_uv.zw, q);
    vec3 b = sample_frame(u_tex_b, uv);
    vec3 c = b;
    if (u_single == 0) {
        c = mix(sample_frame(u_tex_a, uv), b, u_mix);
    }
    f_color = vec4(c, u_opacity);
}
#endif
