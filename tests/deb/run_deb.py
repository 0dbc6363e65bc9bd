#!/usr/bin/env python3
"""Host-side tests of the Debian package (`make deb`, docs/debian.md). No QEMU.

usage: run_deb.py [--keep] [--boot]

1. Builds build/vesta_<VERSION>_amd64.deb with `make deb`, and a second package with a higher version from its
   own build directory (the hypervisor rebuilt to report that version) for the upgrade test.
2. Checks the package: control fields, the exact file list with modes and owners, conffiles, md5sums, the
   changelog's version, the packaged image (the gunzipped file is build/vesta.elf, GRUB's grub-file sees a
   multiboot2 image, it reports the package's version), and that scripts/mkdeb.sh refuses a wrong version.
3. lintian: no error and no warning, for the package and for the local build.
4. The GRUB generator, run by the real grub-mkconfig of grub-common (with GRUB's own 00_header and 10_linux when
   the host has them) over a fake /boot and /etc/default in a private mount namespace. Only grub-probe and
   grub-mkrelpath, which look at real disks, are replaced by stubs that describe one ext4 partition. The
   generated grub.cfg must pass grub-script-check, and the Vesta entries are parsed and compared line by line
   with what the settings ask for.
5. dpkg --root install, upgrade (with a locally edited conffile), remove and purge in a throw-away root whose
   maintainer scripts run under busybox; a stub update-grub records what /boot held each time it ran.

--boot additionally boots the generated top entry with real GRUB (an ISO from grub-mkrescue) in one QEMU and
checks that Vesta receives the command line, the dom0 kernel's arguments and the initrd (the kernel comes from
scripts/fetch-linux.sh; outside `make test`, which keeps this stage QEMU-free).

Prints PASS/FAIL per check and ends with "N passed, N failed"; exits 1 if anything failed. Needs root (or
unprivileged user namespaces) for the mount namespace and dpkg's chroot.
"""

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UUID = "0b5c2e4f-7a43-4b8e-9d1a-3c6f2e8a9b10"
ROOT_DEV = "/dev/vda1"
GRUB_D_HOST = "/etc/grub.d"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % name)
    else:
        failed += 1
        print("FAIL %s%s" % (name, ": " + detail if detail else ""))
    sys.stdout.flush()
    return ok


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    return subprocess.run(cmd, text=True, **kw)


def unshare_prefix():
    # A private mount namespace; as a normal user, inside a user namespace that maps us to root.
    return ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


# ---------------------------------------------------------------------------------------------------------------
# 1-2. Building and inspecting the package.
# ---------------------------------------------------------------------------------------------------------------

EXPECTED_FILES = {
    # path: (type+mode, owner)
    "./": "drwxr-xr-x",
    "./boot/": "drwxr-xr-x",
    "./boot/vesta-{v}.gz": "-rw-r--r--",
    "./etc/": "drwxr-xr-x",
    "./etc/default/": "drwxr-xr-x",
    "./etc/default/grub.d/": "drwxr-xr-x",
    "./etc/default/grub.d/vesta.cfg": "-rw-r--r--",
    "./etc/grub.d/": "drwxr-xr-x",
    "./etc/grub.d/20_linux_vesta": "-rwxr-xr-x",
    "./usr/": "drwxr-xr-x",
    "./usr/share/": "drwxr-xr-x",
    "./usr/share/doc/": "drwxr-xr-x",
    "./usr/share/doc/vesta/": "drwxr-xr-x",
    "./usr/share/doc/vesta/README.Debian": "-rw-r--r--",
    "./usr/share/doc/vesta/changelog.gz": "-rw-r--r--",
    "./usr/share/doc/vesta/copyright": "-rw-r--r--",
}
CONFFILES = ["/etc/default/grub.d/vesta.cfg", "/etc/grub.d/20_linux_vesta"]


def build_packages(version, work):
    r = run(["make", "-C", REPO, "deb"])
    deb = os.path.join(REPO, "build", "vesta_%s_amd64.deb" % version)
    if not check("make deb builds build/vesta_%s_amd64.deb" % version, r.returncode == 0 and os.path.exists(deb),
                 r.stdout[-1500:]):
        return None, None
    # The upgrade's package: a higher version, the hypervisor rebuilt in its own build directory to report it.
    up_version = version + "+upgradetest"
    up_build = os.path.join(REPO, "build-deb-upgrade")
    r = run(["make", "-C", REPO, "-j2", "BUILD=" + os.path.relpath(up_build, REPO), "VERSION=" + up_version, "deb"])
    up_deb = os.path.join(up_build, "vesta_%s_amd64.deb" % up_version)
    check("make deb VERSION=%s builds the upgrade's package" % up_version,
          r.returncode == 0 and os.path.exists(up_deb), r.stdout[-1500:])
    return deb, (up_deb if os.path.exists(up_deb) else None)


def inspect_package(deb, version, work):
    ex = os.path.join(work, "extract")
    shutil.rmtree(ex, ignore_errors=True)
    r1 = run(["dpkg-deb", "-x", deb, ex])
    r2 = run(["dpkg-deb", "-e", deb, os.path.join(ex, "DEBIAN")])
    if not check("dpkg-deb unpacks the package", r1.returncode == 0 and r2.returncode == 0, r1.stdout + r2.stdout):
        return None

    fields = {}
    for name in ["Package", "Version", "Architecture", "Depends", "Provides", "Section", "Priority",
                 "Installed-Size", "Maintainer", "Description"]:
        fields[name] = run(["dpkg-deb", "-f", deb, name]).stdout.strip()
    check("control: Package vesta, Version %s, Architecture amd64" % version,
          (fields["Package"], fields["Version"], fields["Architecture"]) == ("vesta", version, "amd64"),
          repr(fields))
    check("control: Depends on xen-utils-4.17", re.fullmatch(r"xen-utils-4\.17", fields["Depends"]) is not None,
          fields["Depends"])
    check("control: Provides xen-hypervisor-4.17 (what xen-utils-4.17 recommends)",
          fields["Provides"] == "xen-hypervisor-4.17", fields["Provides"])
    total_kib = 0
    for dirpath, dirnames, filenames in os.walk(ex):
        if os.path.relpath(dirpath, ex).startswith("DEBIAN"):
            continue
        for fn in filenames:
            total_kib += (os.path.getsize(os.path.join(dirpath, fn)) + 1023) // 1024
    inst = int(fields["Installed-Size"]) if fields["Installed-Size"].isdigit() else -1
    # Files rounded up to KiB, plus one per directory (dpkg-gencontrol's count).
    check("control: Installed-Size %s KiB covers the files (%d KiB) and directories" % (inst, total_kib),
          total_kib < inst <= total_kib + len(EXPECTED_FILES), fields["Installed-Size"])

    listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    got = {}
    for line in listing:
        parts = line.split()
        got[parts[5]] = (parts[0], parts[1])
    want = {p.format(v=version): m for p, m in EXPECTED_FILES.items()}
    check("file list: exactly the %d expected paths" % len(want), sorted(got) == sorted(want),
          "extra %s, missing %s" % (sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    bad = [p for p in want if p in got and got[p] != (want[p], "root/root")]
    check("file list: modes as expected, everything owned by root/root", not bad,
          ", ".join("%s %s" % (p, got[p]) for p in bad))

    conffiles = open(os.path.join(ex, "DEBIAN", "conffiles")).read().split()
    check("conffiles: the generator and vesta.cfg", sorted(conffiles) == CONFFILES, repr(conffiles))
    md5 = run(["md5sum", "--check", "--strict", os.path.join(ex, "DEBIAN", "md5sums")], cwd=ex)
    listed = sorted("/" + line.split(None, 1)[1].strip()
                    for line in open(os.path.join(ex, "DEBIAN", "md5sums")) if line.strip())
    regular = sorted(p[1:] for p, m in want.items() if m.startswith("-"))
    check("md5sums: every file but the conffiles, all sums right",
          md5.returncode == 0 and listed == sorted(set(regular) - set(CONFFILES)), md5.stdout + repr(listed))
    scripts = sorted(f for f in os.listdir(os.path.join(ex, "DEBIAN")) if f.endswith(("inst", "rm")))
    syntax = [run(["sh", "-n", os.path.join(ex, "DEBIAN", s)]) for s in scripts]
    check("maintainer scripts: postinst and postrm, valid sh, executable",
          scripts == ["postinst", "postrm"] and all(s.returncode == 0 for s in syntax) and
          all(os.access(os.path.join(ex, "DEBIAN", s), os.X_OK) for s in scripts), repr(scripts))

    with gzip.open(os.path.join(ex, "usr/share/doc/vesta/changelog.gz"), "rt") as f:
        changelog = f.read()
    top = run(["dpkg-parsechangelog", "-l", "-", "-SVersion"], input=changelog).stdout.strip()
    check("changelog.gz: newest entry is %s" % version, top == version, top)

    image = os.path.join(ex, "boot", "vesta-%s.gz" % version)
    with gzip.open(image, "rb") as f:
        unpacked = f.read()
    with open(os.path.join(REPO, "build", "vesta.elf"), "rb") as f:
        elf = f.read()
    check("/boot/vesta-%s.gz unpacks to build/vesta.elf (%d bytes)" % (version, len(elf)), unpacked == elf)
    mb2 = run(["grub-file", "--is-x86-multiboot2", image])
    check("grub-file: the compressed image is a multiboot2 kernel", mb2.returncode == 0, mb2.stdout)
    check("the image reports version %s (XENVER_changeset 'vesta %s')" % (version, version),
          b"\0vesta " + version.encode() + b"\0" in unpacked)
    return ex


def mkdeb_refusals(work):
    elf = os.path.join(REPO, "build", "vesta.elf")
    r = run(["bash", os.path.join(REPO, "scripts", "mkdeb.sh"), "9.9", elf, os.path.join(work, "x.deb")])
    check("mkdeb.sh refuses a version the image does not report", r.returncode != 0 and "does not report" in r.stdout,
          r.stdout)
    r = run(["bash", os.path.join(REPO, "scripts", "mkdeb.sh"), "0.1-1", elf, os.path.join(work, "y.deb")])
    check("mkdeb.sh refuses a Debian revision (native package)", r.returncode != 0 and "native" in r.stdout,
          r.stdout)


# ---------------------------------------------------------------------------------------------------------------
# 3. lintian.
# ---------------------------------------------------------------------------------------------------------------

def lintian(deb, what="the package"):
    if not shutil.which("lintian"):
        check("lintian is installed (scripts/install-deps.sh)", False)
        return
    r = run(["lintian", "--display-info", "--pedantic", deb])
    tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIPXO]: ", l)]
    for t in tags:
        print("  lintian: " + t)
    errors = [t for t in tags if t.startswith("E: ")]
    warnings = [t for t in tags if t.startswith("W: ")]
    check("lintian, %s: %d errors, %d warnings (%d info/pedantic tags)" %
          (what, len(errors), len(warnings), len(tags) - len(errors) - len(warnings)),
          not errors and not warnings and r.returncode == 0, r.stdout[-1500:])


# ---------------------------------------------------------------------------------------------------------------
# 4. The GRUB generator under the real grub-mkconfig.
# ---------------------------------------------------------------------------------------------------------------

GRUB_PROBE_STUB = """#!/bin/sh
# Test stub: every path is on one ext4 partition {dev} of an MBR disk, UUID {uuid}.
target=
for a; do case "$a" in --target=*) target="${{a#--target=}}" ;; esac; done
case "$target" in
  device) echo {dev} ;;
  fs_uuid) echo {uuid} ;;
  fs) echo ext2 ;;
  partmap) echo msdos ;;
  abstraction) ;;
  compatibility_hint) echo hd0,msdos1 ;;
  hints_string) echo "--hint-bios=hd0,msdos1" ;;
  *) exit 1 ;;
esac
""".format(dev=ROOT_DEV, uuid=UUID)

# /boot on the root file system: a path is its own path relative to the file system's root.
GRUB_MKRELPATH_STUB = "#!/bin/sh\necho \"$1\"\n"

# Runs in a private mount namespace: the fake directories over the real ones, then grub-mkconfig.
NS_SCRIPT = r"""
set -e
w="$1"
mount --bind "$w/boot" /boot
mount --bind "$w/default" /etc/default
mount --bind "$w/grub.d" /etc/grub.d
mount --bind "$w/bin/grub-probe" /usr/sbin/grub-probe
mount --bind "$w/bin/grub-mkrelpath" /usr/bin/grub-mkrelpath
# udev's /dev/disk as the test wants it (the generator uses UUID= only when the link exists).
if [ -d /dev/disk ]; then
  mount --bind "$w/devdisk" /dev/disk
else
  mkdir -p "$w/olddev"
  mount --rbind /dev "$w/olddev"
  mount -t tmpfs tmpfs /dev
  for n in null zero full random urandom tty; do
    touch "/dev/$n"
    mount --bind "$w/olddev/$n" "/dev/$n"
  done
  ln -s /proc/self/fd /dev/fd
  mkdir /dev/disk
  mount --bind "$w/devdisk" /dev/disk
fi
exec grub-mkconfig -o "$w/grub.cfg"
"""


def grub_scenario(work, name, vesta_images, kernels, default_grub, uuid_link=True, extra_boot=()):
    """Runs grub-mkconfig over a fake system; returns (rc, output, grub.cfg text)."""
    w = os.path.join(work, "grub-" + name)
    shutil.rmtree(w, ignore_errors=True)
    boot = os.path.join(w, "boot")
    os.makedirs(boot)
    for dst, src in vesta_images:
        shutil.copy(src, os.path.join(boot, dst))
    for kver, dom0, initrd in kernels:
        write(os.path.join(boot, "vmlinuz-" + kver), "a kernel image\n")
        if dom0 is not None:
            write(os.path.join(boot, "config-" + kver),
                  "CONFIG_XEN=y\n" + ("CONFIG_XEN_DOM0=y\n" if dom0 else "# CONFIG_XEN_DOM0 is not set\n"))
        if initrd:
            write(os.path.join(boot, "initrd.img-" + kver), "an initrd\n")
    for fn, text in extra_boot:
        write(os.path.join(boot, fn), text)
    write(os.path.join(w, "default", "grub"), default_grub)
    os.makedirs(os.path.join(w, "default", "grub.d"))
    shutil.copy(os.path.join(work, "extract", "etc/default/grub.d/vesta.cfg"),
                os.path.join(w, "default", "grub.d", "vesta.cfg"))
    os.makedirs(os.path.join(w, "grub.d"))
    for g in ["00_header", "10_linux"]:
        if os.path.exists(os.path.join(GRUB_D_HOST, g)):
            shutil.copy(os.path.join(GRUB_D_HOST, g), os.path.join(w, "grub.d", g))
    shutil.copy(os.path.join(work, "extract", "etc/grub.d/20_linux_vesta"), os.path.join(w, "grub.d"))
    write(os.path.join(w, "bin", "grub-probe"), GRUB_PROBE_STUB, 0o755)
    write(os.path.join(w, "bin", "grub-mkrelpath"), GRUB_MKRELPATH_STUB, 0o755)
    os.makedirs(os.path.join(w, "devdisk", "by-uuid"))
    if uuid_link:
        # udev's link to the partition's device node; a plain file does as well for `test -e`.
        write(os.path.join(w, "devdisk", "by-uuid", UUID), "")
    r = run(unshare_prefix() + ["sh", "-c", NS_SCRIPT, "ns", w])
    cfg_path = os.path.join(w, "grub.cfg")
    cfg = open(cfg_path).read() if os.path.exists(cfg_path) else ""
    return r.returncode, r.stdout, cfg, cfg_path


def section(cfg, script):
    m = re.search(r"^### BEGIN /etc/grub.d/%s ###\n(.*?)^### END /etc/grub.d/%s ###$" % (script, script), cfg,
                  re.M | re.S)
    return m.group(1) if m else None


def parse_entries(text):
    """Menu entries of a grub.cfg fragment: dicts with path (enclosing submenu titles), title, id, lines."""
    entries, stack, cur = [], [], None
    for raw in text.splitlines():
        line = raw.strip()
        if cur is not None:
            if line == "}":
                entries.append(cur)
                cur = None
            else:
                cur["lines"].append(line)
            continue
        m = re.match(r"^(menuentry|submenu) '((?:[^']|'\\'')*)' (.*)\{$", line)
        if m:
            title = m.group(2).replace("'\\''", "'")
            ident = re.search(r"\$menuentry_id_option '([^']*)'", m.group(3))
            if m.group(1) == "submenu":
                stack.append(title)
            else:
                cur = {"path": list(stack), "title": title, "id": ident.group(1) if ident else None,
                       "head": m.group(3), "lines": []}
        elif line == "}" and stack:
            stack.pop()
    return entries


def boot_lines(entry):
    """The loader commands of an entry, each as one string with single spaces."""
    return [" ".join(l.split()) for l in entry["lines"]
            if l.split() and l.split()[0] in ("multiboot2", "multiboot", "module2", "module", "insmod",
                                              "savedefault")]


def expected_entry(version, kver, hv, dom0, root, initrd, savedefault=False):
    lines = []
    if savedefault:
        lines.append("savedefault")
    lines += ["insmod part_msdos", "insmod ext2", "insmod gzio",
              ("multiboot2 /boot/vesta-%s.gz %s" % (version, hv)).strip(),
              ("module2 /boot/vmlinuz-%s root=%s ro %s" % (kver, root, dom0)).strip()]
    if initrd:
        lines.append("module2 --nounzip /boot/initrd.img-%s" % kver)
    return lines


def compare_entries(name, got_entries, want):
    """want: list of (path, title, lines) in menu order."""
    got = [(e["path"], e["title"]) for e in got_entries]
    exp = [(p, t) for p, t, _ in want]
    if not check("%s: %d Vesta entries, titles and submenus in order" % (name, len(want)), got == exp,
                 "\n  got  %s\n  want %s" % (got, exp)):
        return
    bad = []
    for e, (p, t, lines) in zip(got_entries, want):
        if boot_lines(e) != lines:
            bad.append("%s:\n    got  %s\n    want %s" % (t, boot_lines(e), lines))
    check("%s: every entry's insmod/multiboot2/module2 lines as the settings ask" % name, not bad, "\n  ".join(bad))
    no_search = [e["title"] for e in got_entries
                 if not any(l.startswith("search --no-floppy --fs-uuid --set=root") for l in e["lines"])]
    check("%s: every entry finds /boot by file-system UUID (GRUB's prepare_grub_to_access_device)" % name,
          not no_search, repr(no_search))


def grub_tests(work, version, image, up_version, up_image):
    if not os.path.exists("/usr/sbin/grub-mkconfig"):
        check("grub-mkconfig is installed (grub-common)", False)
        return None
    kernels = [("6.1.0-9-amd64", True, True), ("6.1.0-57-amd64", True, True), ("6.1.0-3-amd64", True, False),
               ("5.10.0-30-amd64", False, True), ("6.1.0-nocfg", None, True)]
    dom0_kernels = ["6.1.0-57-amd64", "6.1.0-9-amd64", "6.1.0-3-amd64"]  # newest first
    os_name = "Debian GNU/Linux"
    adv = "Advanced options for %s (with Vesta hypervisor)" % os_name

    # --- Scenario 1: Debian's usual settings, the package's vesta.cfg defaults, Vesta made the default entry.
    default_grub = """GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="net.ifnames=0"
GRUB_TERMINAL=console
GRUB_CMDLINE_VESTA_DEFAULT="loglvl=all"
VESTA_OVERRIDE_GRUB_DEFAULT=1
"""
    rc, out, cfg, cfg_path = grub_scenario(work, "debian", [("vesta-%s.gz" % version, image)], kernels,
                                           default_grub)
    name = "update-grub, Debian defaults"
    if not check("%s: grub-mkconfig succeeds (it runs grub-script-check on the result)" % name, rc == 0, out[-2000:]):
        return None
    sc = run(["grub-script-check", cfg_path])
    check("%s: grub-script-check accepts grub.cfg" % name, sc.returncode == 0, sc.stdout)
    vs = section(cfg, "20_linux_vesta")
    check("%s: Vesta's section comes after the native Linux entries" % name,
          vs is not None and cfg.index("20_linux_vesta") > cfg.find("10_linux"))
    entries = parse_entries(vs or "")
    hv = "dom0_mem=1G,max:1G loglvl=all"
    hv_rec = "dom0_mem=1G,max:1G"
    root_uuid = "UUID=" + UUID
    want = [([], "%s, with Vesta hypervisor" % os_name,
             expected_entry(version, dom0_kernels[0], hv, "net.ifnames=0 quiet", root_uuid, True))]
    sub = [adv, "Vesta hypervisor, version %s" % version]
    for k in dom0_kernels:
        has_initrd = k != "6.1.0-3-amd64"
        root = root_uuid if has_initrd else ROOT_DEV  # UUID= needs an initrd to resolve it
        want.append((sub, "%s, with Vesta %s and Linux %s" % (os_name, version, k),
                     expected_entry(version, k, hv, "net.ifnames=0 quiet", root, has_initrd)))
        want.append((sub, "%s, with Vesta %s and Linux %s (recovery mode)" % (os_name, version, k),
                     expected_entry(version, k, hv_rec, "single net.ifnames=0", root, has_initrd)))
    compare_entries(name, entries, want)
    ids = re.findall(r"\$menuentry_id_option '([^']*)'", cfg)
    check("%s: menu entry ids unique across grub.cfg (%d)" % (name, len(ids)), len(ids) == len(set(ids)),
          repr(sorted(i for i in ids if ids.count(i) > 1)))
    check("%s: only Vesta's entries use multiboot2" % name,
          cfg.count("multiboot2\t") == len(want) and (section(cfg, "10_linux") or "").count("multiboot") == 0)
    m = re.search(r'^\s*set default="([^"$]*)"', cfg, re.M)
    if os.path.exists(os.path.join(GRUB_D_HOST, "00_header")):
        check("%s: VESTA_OVERRIDE_GRUB_DEFAULT=1 makes the top Vesta entry GRUB's default" % name,
              m is not None and m.group(1) == "%s, with Vesta hypervisor" % os_name, m and m.group(0))
    check("%s: kernels without CONFIG_XEN_DOM0=y or without a config get no Vesta entry" % name,
          "5.10.0-30" not in (vs or "") and "nocfg" not in (vs or ""))
    messages = [l for l in out.splitlines() if l.startswith("Found Vesta")]
    check("%s: grub-mkconfig reports each Vesta/kernel pair found" % name, len(messages) == len(dom0_kernels),
          repr(messages))

    # --- Scenario 2: flat menu, no recovery, savedefault, explicit empty Vesta options, dom0 options replaced,
    # no UUID link (grub-mkconfig in a chroot), two Vesta images, a non-multiboot vesta-* file and a dpkg leftover.
    default_grub2 = """GRUB_DEFAULT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="net.ifnames=0"
GRUB_TERMINAL=console
GRUB_DISABLE_SUBMENU=y
GRUB_DISABLE_RECOVERY=true
GRUB_SAVEDEFAULT=true
GRUB_CMDLINE_VESTA=""
GRUB_CMDLINE_LINUX_VESTA_REPLACE="console=hvc0"
GRUB_CMDLINE_LINUX_VESTA_REPLACE_DEFAULT="loglevel=3"
"""
    images = [("vesta-%s.gz" % version, image)]
    if up_image:
        images.append(("vesta-%s.gz" % up_version, up_image))
    rc, out, cfg, cfg_path = grub_scenario(
        work, "flat", images, kernels[:3], default_grub2, uuid_link=False,
        extra_boot=[("vesta-notes.txt", "not a hypervisor\n"), ("vesta-%s.gz.dpkg-old" % version, "old\n")])
    name = "update-grub, flat menu and replaced options"
    if check("%s: grub-mkconfig succeeds" % name, rc == 0, out[-2000:]):
        vs = section(cfg, "20_linux_vesta") or ""
        check("%s: GRUB_DISABLE_SUBMENU=y: no submenu" % name, "submenu" not in vs)
        order = [up_version, version] if up_image else [version]  # newest Vesta first
        want = []
        for v in order:
            for k in dom0_kernels:
                want.append(([], "%s, with Vesta %s and Linux %s" % (os_name, v, k),
                             expected_entry(v, k, "", "console=hvc0 loglevel=3", ROOT_DEV, k != "6.1.0-3-amd64",
                                            savedefault=True)))
        compare_entries(name, parse_entries(vs), want)
        native = section(cfg, "10_linux") or ""
        check("%s: the native entries keep GRUB_CMDLINE_LINUX*" % name,
              "ro net.ifnames=0 quiet" in native and "hvc0" not in native)
        check("%s: a vesta-* file that is not multiboot is reported and skipped" % name,
              "vesta-notes.txt is not a multiboot image" in out and "vesta-notes" not in vs, out[-800:])
        check("%s: dpkg leftovers (*.dpkg-old) are ignored" % name, "dpkg-old" not in vs and "dpkg-old" not in out)
        m = re.search(r'^\s*set default="([^"$]*)"', cfg, re.M)
        if os.path.exists(os.path.join(GRUB_D_HOST, "00_header")):
            check("%s: without VESTA_OVERRIDE_GRUB_DEFAULT the default stays GRUB_DEFAULT" % name,
                  m is not None and m.group(1) == "0", m and m.group(0))

    # --- Scenario 3: the package removed (its conffiles kept), override still set: nothing from Vesta.
    rc, out, cfg, _ = grub_scenario(work, "removed", [], kernels[:3], default_grub)
    name = "update-grub after removal"
    vs = section(cfg, "20_linux_vesta")
    check("%s: the generator (a kept conffile) prints nothing without a Vesta image" % name,
          rc == 0 and vs is not None and vs.strip() == "", out[-800:] + repr(vs))
    m = re.search(r'^\s*set default="([^"$]*)"', cfg, re.M)
    if os.path.exists(os.path.join(GRUB_D_HOST, "00_header")):
        check("%s: vesta.cfg no longer overrides GRUB_DEFAULT" % name, m is not None and m.group(1) == "0",
              m and m.group(0))

    # --- Scenario 4: a Vesta image but no kernel that supports dom0.
    rc, out, cfg, _ = grub_scenario(work, "nodom0", [("vesta-%s.gz" % version, image)],
                                    [("5.10.0-30-amd64", False, True)], default_grub)
    vs = section(cfg, "20_linux_vesta")
    check("update-grub without a dom0 kernel: no Vesta entry", rc == 0 and vs is not None and vs.strip() == "",
          out[-800:] + repr(vs))
    return os.path.join(work, "grub-debian")


# ---------------------------------------------------------------------------------------------------------------
# 5. dpkg --root: install, upgrade, remove, purge.
# ---------------------------------------------------------------------------------------------------------------

UPDATE_GRUB_STUB = """#!/bin/sh
# Test stub: records that it ran and which Vesta images /boot held then.
echo "$(cd /boot && echo vesta-*)" >> /var/log/update-grub.calls
"""


def tree(root):
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def dpkg_tests(work, deb, version, up_deb, up_version):
    busybox = shutil.which("busybox")
    if not check("busybox is installed (the throw-away root's shell)", busybox is not None):
        return
    root = os.path.join(work, "root")
    shutil.rmtree(root, ignore_errors=True)
    for d in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "bin", "usr/sbin", "boot/grub",
              "var/log", "run", "tmp", "dev", "sys/hypervisor/version"]:
        os.makedirs(os.path.join(root, d))
    for f in ["var/lib/dpkg/status", "var/lib/dpkg/available", "dev/null"]:
        open(os.path.join(root, f), "w").close()
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    for applet in ["sh", "cat", "echo", "grep", "touch"]:
        os.symlink("busybox", os.path.join(root, "bin", applet))
    write(os.path.join(root, "usr/sbin/update-grub"), UPDATE_GRUB_STUB, 0o755)
    calls = os.path.join(root, "var/log/update-grub.calls")
    before = tree(root)

    def dpkg(*args):
        # dpkg chroots into the root for the maintainer scripts; they need a /dev/null there.
        # --force-depends: the throw-away root has no xen-utils-4.17.
        script = 'mount --bind /dev/null "$1/dev/null" && shift && exec dpkg "$@"'
        return run(unshare_prefix() + ["sh", "-c", script, "sh", root, "--root=" + root, "--force-depends",
                                       "--force-confold"] + list(args))

    def status():
        r = run(["dpkg-query", "--root=" + root, "-W", "-f=${Status} ${Version}", "vesta"])
        return r.stdout.strip() if r.returncode == 0 else "not known"

    def calls_log():
        return open(calls).read().split("\n")[:-1] if os.path.exists(calls) else []

    def boot_images():
        return sorted(f for f in os.listdir(os.path.join(root, "boot")) if f.startswith("vesta"))

    r = dpkg("-i", deb)
    check("dpkg --root -i: installed, version %s" % version,
          r.returncode == 0 and status() == "install ok installed %s" % version, r.stdout[-1500:] + status())
    check("install: /boot holds vesta-%s.gz; the conffiles are in place" % version,
          boot_images() == ["vesta-%s.gz" % version] and
          all(os.path.exists(root + c) for c in CONFFILES), repr(boot_images()))
    check("install: postinst ran update-grub once, with the image already in /boot",
          calls_log() == ["vesta-%s.gz" % version], repr(calls_log()))
    check("install: no /run/reboot-required when not running on Vesta",
          not os.path.exists(os.path.join(root, "run/reboot-required")))

    if up_deb:
        # A locally edited conffile that the new version did not change must survive the upgrade untouched.
        cfg = root + "/etc/default/grub.d/vesta.cfg"
        with open(cfg, "a") as f:
            f.write('GRUB_CMDLINE_VESTA_DEFAULT="loglvl=all"  # local edit\n')
        edited = open(cfg).read()
        # As if running on Vesta: what its xen_version extraversion shows in sysfs.
        write(os.path.join(root, "sys/hypervisor/version/extra"), ".7-vesta\n")
        r = dpkg("-i", up_deb)
        check("dpkg --root -i (upgrade): version %s installed" % up_version,
              r.returncode == 0 and status() == "install ok installed %s" % up_version,
              r.stdout[-1500:] + status())
        check("upgrade: /boot holds only vesta-%s.gz (the old image is gone)" % up_version,
              boot_images() == ["vesta-%s.gz" % up_version], repr(boot_images()))
        listed = run(["dpkg-query", "--root=" + root, "-L", "vesta"]).stdout
        check("upgrade: dpkg's file list names no file of the old version",
              "vesta-%s.gz" % version not in listed.replace("vesta-%s.gz" % up_version, ""), listed)
        check("upgrade: the locally edited conffile is kept as it was", open(cfg).read() == edited)
        check("upgrade: postinst ran update-grub, which saw only the new image",
              calls_log()[1:] == ["vesta-%s.gz" % up_version], repr(calls_log()))
        check("upgrade: running on Vesta, postinst flags /run/reboot-required",
              os.path.exists(os.path.join(root, "run/reboot-required")) and
              open(os.path.join(root, "run/reboot-required.pkgs")).read() == "vesta\n")
        os.remove(os.path.join(root, "sys/hypervisor/version/extra"))
        installed_version = up_version
    else:
        installed_version = version
    n_calls = len(calls_log())

    r = dpkg("-r", "vesta")
    check("dpkg --root -r: removed, configuration kept",
          r.returncode == 0 and status().startswith("deinstall ok config-files"), r.stdout[-1500:] + status())
    check("remove: no Vesta image left in /boot; the conffiles stay until purge",
          boot_images() == [] and all(os.path.exists(root + c) for c in CONFFILES), repr(boot_images()))
    check("remove: postrm ran update-grub after the image was gone", calls_log()[n_calls:] == ["vesta-*"],
          repr(calls_log()))

    r = dpkg("-P", "vesta")
    check("dpkg --root -P: purged", r.returncode == 0 and status() in ("not known", "unknown ok not-installed"),
          r.stdout[-1500:] + status())
    after = tree(root)
    # What may differ: dpkg's own database, the stub's log, and /run (a tmpfs on a real system) where postinst
    # flagged the reboot.
    ignore = re.compile(r"^(var/lib/dpkg|var/log/update-grub\.calls$|run/)")
    added = sorted(p for p in after - before if not ignore.match(p))
    removed = sorted(p for p in before - after if not ignore.match(p))
    check("purge: the root is as before the first install (nothing left, nothing lost; %s checked)" %
          ("upgrade path" if installed_version != version else "install path"), not added and not removed,
          "left %s, lost %s" % (added, removed))


# ---------------------------------------------------------------------------------------------------------------
# --boot: the generated top entry through real GRUB in QEMU.
# ---------------------------------------------------------------------------------------------------------------

def boot_test(work, scenario_dir, version):
    r = run([os.path.join(REPO, "scripts", "fetch-linux.sh")], stderr=subprocess.DEVNULL)
    vmlinuz = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ""
    if not check("--boot: Debian's kernel fetched (scripts/fetch-linux.sh)", os.path.exists(vmlinuz), r.stdout):
        return
    cfg = open(os.path.join(scenario_dir, "grub.cfg")).read()
    entry = re.search(r"^menuentry 'Debian GNU/Linux, with Vesta hypervisor'.*?^}$", cfg, re.M | re.S).group(0)
    # The ISO is GRUB's root already; the lines that find the disk partition have nothing to find there.
    body = [l for l in entry.splitlines()
            if not re.match(r"\s*(insmod part_|insmod ext2|set root=|if \[|else|fi|search )", l)]
    iso_root = os.path.join(work, "iso")
    shutil.rmtree(iso_root, ignore_errors=True)
    os.makedirs(os.path.join(iso_root, "boot", "grub"))
    boot = os.path.join(scenario_dir, "boot")
    kver = "6.1.0-57-amd64"
    shutil.copy(os.path.join(boot, "vesta-%s.gz" % version), os.path.join(iso_root, "boot"))
    shutil.copy(vmlinuz, os.path.join(iso_root, "boot", "vmlinuz-" + kver))
    write(os.path.join(iso_root, "boot", "initrd.img-" + kver), "an initrd of 32 bytes, not cpio\n")
    write(os.path.join(iso_root, "boot", "grub", "grub.cfg"),
          "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
          "set timeout=0\nset default=0\nset menuentry_id_option=--id\n" + "\n".join(body) + "\n")
    iso = os.path.join(work, "vesta-entry.iso")
    r = run(["grub-mkrescue", "-d", "/usr/lib/grub/i386-pc", "-o", iso, iso_root])
    if not check("--boot: grub-mkrescue builds an ISO with the generated entry", r.returncode == 0, r.stdout[-800:]):
        return
    log = os.path.join(work, "boot.log")
    with open(log, "w") as f:
        q = subprocess.Popen(["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,-smap", "-m", "1024", "-smp", "1",
                              "-nographic", "-no-reboot", "-cdrom", iso], stdout=f, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 120
            while time.time() < deadline and q.poll() is None:
                time.sleep(1)
                text = open(log, errors="replace").read()
                if re.search(r"Module 1: .* initrd", text) or "error:" in text:
                    break
        finally:
            q.kill()
            q.wait()
    text = open(log, errors="replace").read()
    print("  boot log: %s" % log)
    m = re.search(r"\(VESTA\) Command line: (.*)", text)
    check("--boot: GRUB loads the gzip image with multiboot2 and Vesta boots", "Vesta %s x86-64" % version in text
          and "Bootloader: multiboot2" in text, text[-800:])
    check("--boot: Vesta's command line is GRUB_CMDLINE_VESTA + _DEFAULT",
          m is not None and m.group(1).strip() == "dom0_mem=1G,max:1G loglvl=all", m and m.group(0))
    m0 = re.search(r"Module 0: .* dom0 kernel, args '([^']*)'", text)
    check("--boot: module 0 is the dom0 kernel with GRUB_CMDLINE_LINUX*",
          m0 is not None and m0.group(1) == "root=UUID=%s ro net.ifnames=0 quiet" % UUID, m0 and m0.group(0))
    check("--boot: module 1 is the initrd", re.search(r"Module 1: .* initrd", text) is not None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the work directory (build/deb-test)")
    ap.add_argument("--boot", action="store_true", help="also boot the generated entry in QEMU")
    args = ap.parse_args()
    version = open(os.path.join(REPO, "VERSION")).read().strip()
    work = os.path.join(REPO, "build", "deb-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    deb, up_deb = build_packages(version, work)
    up_version = version + "+upgradetest"
    if deb:
        ex = inspect_package(deb, version, work)
        mkdeb_refusals(work)
        lintian(deb)
        if up_deb:
            lintian(up_deb, "a local build (changelog entry added by mkdeb.sh)")
        if ex:
            up_image = None
            if up_deb:
                up_ex = os.path.join(work, "extract-up")
                if run(["dpkg-deb", "-x", up_deb, up_ex]).returncode == 0:
                    up_image = os.path.join(up_ex, "boot", "vesta-%s.gz" % up_version)
            scenario = grub_tests(work, version, os.path.join(ex, "boot", "vesta-%s.gz" % version),
                                  up_version, up_image)
            dpkg_tests(work, deb, version, up_deb, up_version)
            if args.boot and scenario:
                boot_test(work, scenario, version)
    if not args.keep and not failed:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
