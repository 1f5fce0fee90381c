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
    const box = Math.max(maxX - minX, maxY - minY) + 1;
    const small = document.createElement('canvas');
    small.width = 28;
    small.height = 28;
    const s = small.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
    s.fillStyle = '#000';
    s.fillRect(0, 0, 28, 28);
    const cx = (minX + maxX) / 2;
    const cy = (minY + maxY) / 2;
    s.drawImage(this.canvas, cx - box / 2, cy - box / 2, box, box, 4, 4, 20, 20);
    const pixels = s.getImageData(0, 0, 28, 28).data;
    return Float32Array.from({ length: 784 }, (_, i) => (pixels[i * 4] ?? 0) / 255);
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left) * this.canvas.width) / r.width,
      ((e.clientY - r.top) * this.canvas.height) / r.height,
    ];
  }
}
