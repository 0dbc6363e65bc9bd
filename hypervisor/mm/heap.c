/* The hypervisor heap: xmalloc() for small objects.
 *
 * Requests up to 2 KiB are served from power-of-two size classes, each a free list of objects carved out of
 * whole pages; the page's frame-table entry remembers its class so xfree() needs no header. Larger requests
 * get whole pages from the page allocator, and the head frame remembers the order. */
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/spinlock.h>

#define MIN_SHIFT 4
#define MAX_SHIFT 11
#define NR_CLASSES (MAX_SHIFT - MIN_SHIFT + 1)
/* flags_or_order of heap pages: a tag in the top bits so a stray xfree() of a non-heap pointer is caught. */
#define HEAP_TAG 0xe1ea0000u
#define HEAP_TAG_MASK 0xffff0000u
#define HEAP_LARGE 0x8000u

struct free_obj {
    struct free_obj *next;
};

static struct {
    struct free_obj *free;
    uint64_t in_use, pages;
} classes[NR_CLASSES];
static spinlock_t heap_lock = SPINLOCK_INIT;
static uint64_t large_pages;

static unsigned int size_class(size_t size)
{
    unsigned int c = 0;
    while ((1UL << (c + MIN_SHIFT)) < size)
        c++;
    return c;
}

void *xmalloc(size_t size)
{
    if (!size)
        size = 1;
    if (size > (1UL << MAX_SHIFT)) {
        unsigned int order = 0;
        while ((PAGE_SIZE << order) < size)
            order++;
        void *p = alloc_hv_pages(order);
        if (p) {
            mfn_to_frame(virt_to_mfn(p))->flags_or_order = HEAP_TAG | HEAP_LARGE | order;
            __atomic_add_fetch(&large_pages, 1UL << order, __ATOMIC_RELAXED);
        }
        return p;
    }
    unsigned int c = size_class(size);
    unsigned long f = spin_lock_irqsave(&heap_lock);
    if (!classes[c].free) {
        spin_unlock_irqrestore(&heap_lock, f);
        char *page = alloc_hv_pages(0);
        if (!page)
            return NULL;
        mfn_to_frame(virt_to_mfn(page))->flags_or_order = HEAP_TAG | c;
        size_t obj = 1UL << (c + MIN_SHIFT);
        f = spin_lock_irqsave(&heap_lock);
        for (size_t off = 0; off < PAGE_SIZE; off += obj) {
            struct free_obj *o = (struct free_obj *)(page + off);
            o->next = classes[c].free;
            classes[c].free = o;
        }
        classes[c].pages++;
    }
    struct free_obj *o = classes[c].free;
    classes[c].free = o->next;
    classes[c].in_use++;
    spin_unlock_irqrestore(&heap_lock, f);
    return o;
}

void *xzalloc(size_t size)
{
    void *p = xmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void xfree(void *p)
{
    if (!p)
        return;
    struct frame *fr = mfn_to_frame(virt_to_mfn(p));
    uint32_t tag = fr->flags_or_order;
    if ((tag & HEAP_TAG_MASK) != HEAP_TAG)
        panic("xfree(%p): not a heap object", p);
    if (tag & HEAP_LARGE) {
        unsigned int order = tag & 0xff;
        if ((unsigned long)p & ((PAGE_SIZE << order) - 1))
            panic("xfree(%p): not the start of a heap block", p);
        fr->flags_or_order = 0;
        __atomic_sub_fetch(&large_pages, 1UL << order, __ATOMIC_RELAXED);
        free_hv_pages(p, order);
        return;
    }
    unsigned int c = tag & 0xff;
    if (c >= NR_CLASSES || ((unsigned long)p & ((1UL << (c + MIN_SHIFT)) - 1)))
        panic("xfree(%p): misaligned heap object", p);
    unsigned long f = spin_lock_irqsave(&heap_lock);
    struct free_obj *o = p;
    o->next = classes[c].free;
    classes[c].free = o;
    classes[c].in_use--;
    spin_unlock_irqrestore(&heap_lock, f);
}

void heap_dump(void)
{
    printk("Heap: %lu KiB in large blocks", large_pages << 2);
    for (unsigned int c = 0; c < NR_CLASSES; c++)
        if (classes[c].pages)
            printk("  %4lu-byte objects: %lu in use, %lu pages", 1UL << (c + MIN_SHIFT), classes[c].in_use,
                   classes[c].pages);
}
