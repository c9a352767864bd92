// NEON instructions Go's assembler has no mnemonics for, emitted as
// words (register numbers d, n, m). The encodings were checked against
// GNU as; the kernel tests run every one of them (under qemu-aarch64 off
// arm64 hardware).
#define SMLAL_4S(d, n, m)    WORD $(0x0E608000 | (m)<<16 | (n)<<5 | (d))
#define SMLAL2_4S(d, n, m)   WORD $(0x4E608000 | (m)<<16 | (n)<<5 | (d))
#define SXTL_8H(d, n)        WORD $(0x0F08A400 | (n)<<5 | (d))
#define SXTL2_8H(d, n)       WORD $(0x4F08A400 | (n)<<5 | (d))
#define UXTL_8H(d, n)        WORD $(0x2F08A400 | (n)<<5 | (d))
#define UXTL2_8H(d, n)       WORD $(0x6F08A400 | (n)<<5 | (d))
#define SXTL_4S(d, n)        WORD $(0x0F10A400 | (n)<<5 | (d))
#define SXTL2_4S(d, n)       WORD $(0x4F10A400 | (n)<<5 | (d))
#define UXTL_4S(d, n)        WORD $(0x2F10A400 | (n)<<5 | (d))
#define UXTL2_4S(d, n)       WORD $(0x6F10A400 | (n)<<5 | (d))
#define SSHL_4S(d, n, m)     WORD $(0x4EA04400 | (m)<<16 | (n)<<5 | (d))
#define SQRDMULH_4S(d, n, m) WORD $(0x6EA0B400 | (m)<<16 | (n)<<5 | (d))
#define SSHR31_4S(d, n)      WORD $(0x4F210400 | (n)<<5 | (d))
#define SQADD_4S(d, n, m)    WORD $(0x4EA00C00 | (m)<<16 | (n)<<5 | (d))
#define SRSHL_4S(d, n, m)    WORD $(0x4EA05400 | (m)<<16 | (n)<<5 | (d))
#define SMAX_4S(d, n, m)     WORD $(0x4EA06400 | (m)<<16 | (n)<<5 | (d))
#define SMIN_4S(d, n, m)     WORD $(0x4EA06C00 | (m)<<16 | (n)<<5 | (d))
#define SQXTN_4H(d, n)       WORD $(0x0E614800 | (n)<<5 | (d))
#define SQXTN2_8H(d, n)      WORD $(0x4E614800 | (n)<<5 | (d))
#define SQXTN_8B(d, n)       WORD $(0x0E214800 | (n)<<5 | (d))
#define SQXTN2_16B(d, n)     WORD $(0x4E214800 | (n)<<5 | (d))
#define SQXTUN_8B(d, n)      WORD $(0x2E212800 | (n)<<5 | (d))
#define SQXTUN2_16B(d, n)    WORD $(0x6E212800 | (n)<<5 | (d))

// RESCALE_4S: register a (number) = RoundingDivideByPOT(
// SaturatingRoundingDoublingHighMul(a, m), −neg) as TFLite's NEON code
// computes it: SQRDMULH is the doubling high multiply; SRSHL by the
// negated shift rounds ties up, so one is first subtracted from negative
// values (x & neg has the sign bit only when x < 0 and the shift is not
// 0). t is a scratch register (number), va/vneg/vt name a, neg, t.
#define RESCALE_4S(a, m, neg, t, va, vneg, vt) \
	SQRDMULH_4S(a, a, m) \
	VAND vneg.B16, va.B16, vt.B16 \
	SSHR31_4S(t, t) \
	SQADD_4S(a, a, t) \
	SRSHL_4S(a, a, neg)

// Float32 lanes: FADD, FSUB, FMUL, FMAX and FMIN Vd.4S, Vn.4S, Vm.4S
// (d = n op m; FMAX and FMIN give NaN when either operand is NaN and
// order −0 below +0, as Go's max and min do), and FCMGT Vd.4S, Vn.4S,
// #0.0 (all ones where n > 0; false for NaN). These encodings were
// checked with go tool objdump -gnu on the built kernels.
#define FADD_4S(d, n, m)     WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FSUB_4S(d, n, m)     WORD $(0x4EA0D400 | (m)<<16 | (n)<<5 | (d))
#define FMUL_4S(d, n, m)     WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
#define FMAX_4S(d, n, m)     WORD $(0x4E20F400 | (m)<<16 | (n)<<5 | (d))
#define FMIN_4S(d, n, m)     WORD $(0x4EA0F400 | (m)<<16 | (n)<<5 | (d))
#define FCMGTZ_4S(d, n)      WORD $(0x4EA0C800 | (n)<<5 | (d))
