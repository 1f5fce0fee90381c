/**
 * A black pad to draw a white digit on. `pixels()` gives it as MNIST expects: 28×28 values in
 * [0, 1], the drawing scaled into the centre 20×20 box as in the original MNIST preprocessing.
 */
export class DrawingPad {
  private drawing = false;
  private readonly g: CanvasRenderingContext2D;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onStroke: () => void,
  ) {
    this.g = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      this.g.beginPath();
      this.g.moveTo(...this.at(e));
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      this.g.lineTo(...this.at(e));
      this.g.stroke();
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointerleave', end);
  }

  clear(): void {
    this.g.fillStyle = '#000';
    this.g.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.g.strokeStyle = '#fff';
    this.g.lineWidth = this.canvas.width / 12;
    this.g.lineCap = 'round';
    this.g.lineJoin = 'round';
  }

  /** 784 values in [0, 1], or undefined when nothing is drawn. */
  pixels(): Float32Array | undefined {
    const { width, height } = this.canvas;
    const data = this.g.getImageData(0, 0, width, height).data;
    let [minX, minY, maxX, maxY] = [width, height, -1, -1];
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if ((data[(y * width + x) * 4] ?? 0) > 40) {
          minX = Math.min(minX, x);
          maxX = Math.max(maxX, x);
          minY = Math.min(minY, y);
          maxY = Math.max(maxY, y);
        }
    if (maxX < 0) return undefined;
    // As MNIST was made: the digit scaled into a 20×20 box, then moved so that its centre of
    // mass sits at the centre of the 28×28 image.
    const box = Math.max(maxX - minX, maxY - minY) + 1;
    const scale = 20 / box;
    const region = [minX, minY, maxX - minX + 1, maxY - minY + 1] as const;
    const [cx, cy] = centreOfMass(drawOn28(this.canvas, ...region, scale, 0, 0));
    return drawOn28(this.canvas, ...region, scale, 14 - cx, 14 - cy);
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * this.canvas.width) / r.width,
      ((e.clientY - r.top) * this.canvas.height) / r.height,
    ];
  }
}

/** The region drawn into a black 28×28 image at `scale`, offset by (dx, dy); values in [0, 1]. */
function drawOn28(
  source: HTMLCanvasElement,
  x: number,
  y: number,
  w: number,
  h: number,
  scale: number,
  dx: number,
  dy: number,
): Float32Array {
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const g = small.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  g.fillStyle = '#000';
  g.fillRect(0, 0, 28, 28);
  g.drawImage(source, x, y, w, h, dx, dy, w * scale, h * scale);
  const pixels = g.getImageData(0, 0, 28, 28).data;
  return Float32Array.from({ length: 784 }, (_, i) => (pixels[i * 4] ?? 0) / 255);
}

function centreOfMass(image: Float32Array): [number, number] {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  image.forEach((v, i) => {
    mass += v;
    sx += v * (i % 28);
    sy += v * Math.floor(i / 28);
  });
  return mass === 0 ? [14, 14] : [sx / mass, sy / mass];
}
