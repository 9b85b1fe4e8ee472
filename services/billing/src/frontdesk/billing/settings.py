from frontdesk.kit.settings import Settings


class BillingSettings(Settings):
    # A Unicode TrueType font for PDFs (Debian: fonts-dejavu-core). Without it PDFs fall
    # back to the PDF core font Helvetica, which only writes Latin-1 (others become "?").
    pdf_font_path: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    pdf_bold_font_path: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
