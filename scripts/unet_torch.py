# The U-Nets of `segloss bench unet` and `segloss bench threads` in PyTorch eager, for comparison (issues #14, #23):
#   /usr/bin/python3 scripts/unet_torch.py [THREADS]   (Debian's python3-torch; THREADS default 1: torch.set_num_threads)
# The same architecture as segloss/models' unet2d / unet3d, Dice + CE, Adam; ms per training step.
import time, sys, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
def block(cin, cout, nd):
    Conv = nn.Conv2d if nd == 2 else nn.Conv3d
    BN = nn.BatchNorm2d if nd == 2 else nn.BatchNorm3d
    return nn.Sequential(Conv(cin, cout, 3, padding=1, bias=False), BN(cout, eps=1e-3, momentum=0.01), nn.ReLU(),
                         Conv(cout, cout, 3, padding=1, bias=False), BN(cout, eps=1e-3, momentum=0.01), nn.ReLU())
class UNet(nn.Module):
    def __init__(self, nd, filters=(16, 32, 64, 128), classes=2):
        super().__init__()
        self.nd = nd
        Pool = nn.MaxPool2d if nd == 2 else nn.MaxPool3d
        Up = nn.ConvTranspose2d if nd == 2 else nn.ConvTranspose3d
        Conv = nn.Conv2d if nd == 2 else nn.Conv3d
        self.down = nn.ModuleList(); c = 1
        for f in filters[:-1]: self.down.append(block(c, f, nd)); c = f
        self.pool = Pool(2)
        self.bottom = block(c, filters[-1], nd); c = filters[-1]
        self.ups = nn.ModuleList(); self.blocks = nn.ModuleList()
        for f in reversed(filters[:-1]):
            self.ups.append(Up(c, f, 2, stride=2)); self.blocks.append(block(2 * f, f, nd)); c = f
        self.head = Conv(c, classes, 1)
    def forward(self, x):
        skips = []
        for d in self.down: x = d(x); skips.append(x); x = self.pool(x)
        x = self.bottom(x)
        for up, b in zip(self.ups, self.blocks): x = b(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)
def dice_ce(logits, y):
    ce = F.cross_entropy(logits, y)
    p = logits.softmax(1); oh = F.one_hot(y, 2).movedim(-1, 1).float()
    dims = tuple(range(2, logits.dim()))
    inter = (p * oh).sum(dims); den = p.sum(dims) + oh.sum(dims)
    return ce + (1 - (2 * inter + 1e-5) / (den + 1e-5)).mean()
for nd, shape, batch, steps, filters in [(2, (128, 128), 4, 6, (16, 32, 64, 128)), (3, (64, 64, 64), 1, 3, (16, 32, 64, 128)),
                                         (3, (48, 48, 48), 2, 3, (16, 32, 64))]:
    m = UNet(nd, filters); opt = torch.optim.Adam(m.parameters(), 1e-3)
    x = torch.rand(batch, 1, *shape); y = (x[:, 0] > 0.7).long()
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter(); opt.zero_grad(); l = dice_ce(m(x), y); l.backward(); opt.step(); times.append(time.perf_counter() - t0)
    t = sorted(times[1:])[len(times[1:]) // 2]
    print(f"{nd}D {shape} batch {batch} filters {filters}, {torch.get_num_threads()} thread(s): {1000 * t:.0f} ms/step median of {steps} (params {sum(p.numel() for p in m.parameters())}) torch {torch.__version__}")
