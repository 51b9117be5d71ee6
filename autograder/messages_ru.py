"""The Russian edition's wording of the checks' and the grader's messages (``autograder.i18n``).

``PATTERNS``: (regular expression, replacement) pairs, applied in order with ``re.sub`` to a message
as the checks word it in English; a replacement may use the groups (``\\1``, ``\\g<name>``).

How the catalogue is laid out:

1. **Student text is marked first.** What came from the student's code (an exception after
   ``raised``, the call the autograd watch saw, a class name, a line of the answer cell) is put
   between two private-use characters (:data:`_IN`, :data:`_OUT`; the probes and
   ``autograder.hostile.student_text`` turn such characters into spaces, so student text never
   holds them). Every later pattern ends with :data:`_OUTSIDE`, so it cannot match within marked
   text, and the last pattern removes the marks: student text comes out exactly as it went in.
2. **Whole sentences and hints**, the longest first: the wording the checks give one task.
3. **Fragments the checks share**: ``expect_tensor``'s and ``compare``'s predicates (``has dtype``,
   ``has shape``, ``max relative error … against the reference``), the type of a value (``a
   NoneType``), and last the subjects they are said of (``the result``, ``the gradient of W``), so
   that ``the result has shape (3,), expected ()`` reads ``результат имеет форму (3,), а ожидалась
   ()`` whatever the subject.

The forbidden-use sentence (``uses torch.autograd (… on line 3 of …)``) is reworded by
``source_scan`` before these patterns run. Names, identifiers, numbers, shapes, dtypes and formulas
stay as they are.
"""

from __future__ import annotations

from .checks.source_scan import NAME_RU, WHY_RU

_IN, _OUT = "\ue000", "\ue001"  # around student text while the patterns run
_OUTSIDE = "(?![^\ue000]*\ue001)"  # a match that does not end inside student text

# ---------------------------------------------------------------------------------------------------
# 1. Student text: marked, never translated
# ---------------------------------------------------------------------------------------------------

# which call of the probe raised (hw2's STEPS), written after the exception: " (in forward)"
_STEP = (
    r"the constructor|setting W and b through parameters\(\)|Linear\(in_features, out_features, \.\.\.\)"
    r"|backward\(grad_output, need_input_grad=False\)|gradients\(\)|parameters\(\)"
    r"|train with max_iter=\d+|[\w.]+"
)
# what a check writes after a student's exception (one or more of these end the message)
_AFTER_RAISED = (
    r" \((?:in (?:" + _STEP + r"))\)"
    r"| at step \d+"
    r"| when p\.grad is one tensor that the caller overwrites in place between steps"
    r"| on a gradient of \w+ of the wrong shape: report a failure for that input instead"
    r"| \(f may return a 0-d tensor, a one-element tensor or a float: use float\(f\(x\)\)\)"
    r"|: broadcasting would make pred − target \(\d+, \d+\), so raise a ValueError \(the provided _check_pair does\)"
    r"|, expected a RuntimeError"
    r"|: raise only when asked to; return the total norm, inf"
    r"| \(expected a tensor 0\.0\)"
    r"| \(return the total norm before clipping, a 0-d tensor\)"
    r"| for large \|z\|: e\^\(−z\) overflows for z < −\d+ in float64, −\d+ in float32 \(and e\^z for z > \d+, \d+\)"
    r"| \(second forward/backward\)"
)
# the same, as this catalogue words it: a translated message is marked alike, so that translating
# it again changes nothing (student text that reads like a check's words included)
_AFTER_RAISED_RU = (
    r" \((?:в (?:конструкторе|train с max_iter=\d+|" + _STEP + r")"
    r"|при задании W и b через parameters\(\))\)"
    r"| на шаге \d+"
    r"|, когда p\.grad — один тензор, который вызывающий код перезаписывает на месте между шагами"
    r"| на градиенте по \w+ неверной формы: вместо этого сообщите, что проверка этого входа не пройдена"
    r"| \(f может вернуть 0-мерный тензор, тензор из одного элемента или float: используйте float\(f\(x\)\)\)"
    r"|: при broadcasting разность pred − target имела бы форму \(\d+, \d+\), поэтому выбросьте ValueError "
    r"\(так и делает готовая функция _check_pair\)"
    r"|, а ожидалось исключение RuntimeError"
    r"|: выбрасывайте исключение, только когда об этом просят; верните общую норму, inf"
    r"| \(ожидался тензор 0\.0\)"
    r"| \(верните общую норму до ограничения, 0-мерный тензор\)"
    r"| при больших \|z\|: e\^\(−z\) переполняется .*"
    r"| \(второй проход forward/backward\)"
)

_MARK = [
    # the grader's own words where a student's message quoted its hidden files
    (
        r"\(message withheld: it quotes the grader's files\)",
        "(сообщение скрыто: оно цитирует файлы грейдера)",
    ),
    (r"(could not be examined: )(.+)( was raised)$", r"\1" + _IN + r"\2" + _OUT + r"\3"),
    (
        r"(\(it called )(.+?)(, or made a tensor that requires grad\))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (r"( subclasses )(.+?)(: write the update yourself)", r"\1" + _IN + r"\2" + _OUT + r"\3"),
    (
        r"\braised (.+?)((?:" + _AFTER_RAISED + r")*)$",
        "raised " + _IN + r"\1" + _OUT + r"\2",
    ),
    # the answer cell's scan: a line of the cell, Python's own words for a syntax error
    (
        r"(an IPython magic or shell command \()(.*?)(\)(?:; | \(0 points; for review\)$|$))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (
        r"(: a syntax error \()(.*?)(\)(?:; | \(0 points; for review\)$|$))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    # a submission that is no notebook: its file's name, and the parsers' own words
    (r"^(.+?)(: not a readable notebook: )", _IN + r"\1" + _OUT + r"\2"),
    (r"^([^:]+)(: (?:no such file|not a regular file)$)", _IN + r"\1" + _OUT + r"\2"),
    (
        r"(not JSON \()(.+?)( at line \d+, column \d+; truncated\?\))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (r"(unreadable file \()(.*)(\))$", r"\1" + _IN + r"\2" + _OUT + r"\3"),
    (r"(: cannot be opened \()(.*)(\))$", r"\1" + _IN + r"\2" + _OUT + r"\3"),
    (
        r"(not a notebook \()(?!JSON without|nbformat version|its 'cells'|\w+ while reading it\)$)(.*)(\))$",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    # a message this catalogue has translated already
    (
        r"\b(выброшено исключение|выбросила исключение|выбросил исключение) (.+?)((?:"
        + _AFTER_RAISED_RU
        + r")*)$",
        r"\1 " + _IN + r"\2" + _OUT + r"\3",
    ),
    (
        r"(\(вызов )(.+?)( или создание тензора с requires_grad\))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (r"( наследует )(.+?)(: напишите обновление сами)", r"\1" + _IN + r"\2" + _OUT + r"\3"),
    (
        r"(магическая команда IPython или команда оболочки \()(.*?)(\)(?:; | \(0 баллов;|$))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (
        r"(: синтаксическая ошибка \()(.*?)(\)(?:; | \(0 баллов;|$))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (r"^(.+?)(: не удаётся прочитать как ноутбук: )", _IN + r"\1" + _OUT + r"\2"),
    (r"^([^:]+)(: (?:файл не найден|не обычный файл)$)", _IN + r"\1" + _OUT + r"\2"),
    (
        r"(не JSON \()(.+?)( в строке \d+, столбце \d+; файл обрезан\?\))",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
    (r"((?:файл не читается|не удаётся открыть) \()(.*)(\))$", r"\1" + _IN + r"\2" + _OUT + r"\3"),
    (
        r"(не ноутбук \()(?!JSON без|версии nbformat|его 'cells'|\w+ при чтении\)$)(.*)(\))$",
        r"\1" + _IN + r"\2" + _OUT + r"\3",
    ),
]

# ---------------------------------------------------------------------------------------------------
# 2. The checks' sentences and hints
# ---------------------------------------------------------------------------------------------------

_E = _IN + ".*?" + _OUT  # a marked student text, inside a pattern

_WHY = [  # "this task …, so it scores 0": in source_scan's own Russian (WHY_RU)
    (
        r"asks for gradients computed by hand \(the chain rule, layer by layer\), not by torch\.autograd",
        WHY_RU["torch.autograd"],
    ),
    (
        r"asks for the update rule written by hand, not delegated to torch\.optim's own optimizers",
        WHY_RU["torch.optim's optimizers"],
    ),
    (
        r"asks for the clipping written by hand, not delegated to torch\.nn\.utils\.clip_grad_norm_",
        WHY_RU["torch.nn.utils' clipping"],
    ),
]
_RULE_NAMES = [  # a rule's name in a sentence of these patterns, as source_scan's Russian names it
    (r"torch\.optim's optimizers", NAME_RU["torch.optim's optimizers"]),
    (r"torch\.nn\.utils' clipping", NAME_RU["torch.nn.utils' clipping"]),
]

_COMMON = [
    # the type of a value (a_kind), first: "the result is a NoneType, expected …"
    (
        r"(?:(?<=\bis )|(?<=\bgot )|(?<=\breturned )|(?<=\bgave ))an? ([A-Za-z_][\w.]*)"
        r"(?=, expected | at step \d+, expected |; it returns |$)",
        r"объект типа \1",
    ),
    (r"an object of a class defined in the notebook", "объект класса, определённого в ноутбуке"),
    # autograder/checks/__init__.py: run_judge, and the watch's autograd message
    (
        r"what the function returned could not be examined: (" + _E + ") was raised",
        r"то, что вернула функция, не удалось проверить: выброшено исключение \1",
    ),
    (
        r"uses torch\.autograd \(it called (" + _E + r"), or made a tensor that requires grad\): ",
        r"использует torch.autograd (вызов \1 или создание тензора с requires_grad): ",
    ),
    *[
        (
            r"this task " + why + r", so it scores 0",
            f"это задание {ru}, поэтому оно оценивается в 0 баллов",
        )
        for why, ru in _WHY
    ],
    *[
        (r"(?<=uses )(.*?)" + en + r"(?=.*: it was refused at run time)", r"\1" + ru)
        for en, ru in _RULE_NAMES
    ],
    (
        r"(?<=uses )what this homework forbids(?=: it was refused at run time)",
        "то, что запрещено в этом домашнем задании",
    ),
    (
        r"^([\w.]+: )?uses (.+?): it was refused at run time, so it scores 0 \(for review\)$",
        r"\1использует \2: вызов был заблокирован во время выполнения, поэтому задание оценивается "
        r"в 0 баллов (передано преподавателю на проверку)",
    ),
    (r"the output could not be checked \((\w+)\)", r"результат не удалось проверить (\1)"),
    # raised(): who raised what, and where
    (r"raised " + _IN + "an exception" + _OUT, "выброшено исключение"),
    (r"raised " + _IN + "the run stopped" + _OUT, "запуск прервался"),
    (
        r"the answer cell raised " + _IN + "an error" + _OUT + "$",
        "при выполнении ячейки ответа произошла ошибка",
    ),
    (r"the answer cell raised (?=" + _IN + ")", "ячейка ответа выбросила исключение "),
    (r" and raised (?=" + _IN + ")", " и выбросил исключение "),
    (r" it raised (?=" + _IN + ")", " было выброшено исключение "),
    (r"\braised (?=" + _IN + ")", "выброшено исключение "),
    (_OUT + r" \(in the constructor\)", _OUT + " (в конструкторе)"),
    (
        _OUT + r" \(in setting W and b through parameters\(\)\)",
        _OUT + " (при задании W и b через parameters())",
    ),
    (_OUT + r" \(in train with (max_iter=\d+)\)", _OUT + r" (в train с \1)"),
    (_OUT + r" \(in (" + _STEP + r")\)", _OUT + r" (в \1)"),
    (_OUT + r" at step (\d+)", _OUT + r" на шаге \1"),
]

_HW1 = [
    (
        r"\b(\w+) changed its input (\w+) in place; leave the caller's tensors unchanged",
        r"функция \1 изменила входной тензор \2 на месте; тензоры вызывающего кода должны оставаться неизменными",
    ),
    (
        r"\b(\w+) changed its input (\w+) in place; return a new tensor",
        r"функция \1 изменила входной тензор \2 на месте; верните новый тензор",
    ),
    (
        r"\bsigmoid changed its input z in place",
        "функция sigmoid изменила входной тензор z на месте",
    ),
    (
        r"the first column must be all ones \(the bias is w\[0\]\); found ones in the last column",
        "первый столбец должен состоять из единиц (смещение — это w[0]); единицы найдены в последнем столбце",
    ),
    (
        r"the first column must be all ones \(the bias is w\[0\]\); found ones in no column",
        "первый столбец должен состоять из единиц (смещение — это w[0]); единиц нет ни в одном столбце",
    ),
    (r"expected a tuple \(w, losses\), got ", "ожидался кортеж (w, losses), а получен "),
    (
        r" \(losses\[0\] is the loss at w0 and there is one more loss per step\)",
        " (losses[0] — значение функции потерь в точке w0, и каждый шаг добавляет ещё одно значение)",
    ),
    (
        r" \(with tol, stop before the step once ‖∇L\(w_k\)‖₂ ≤ tol\)",
        " (с tol останавливайтесь перед шагом, как только ‖∇L(w_k)‖₂ ≤ tol)",
    ),
    (
        r" \(one loss before training, one per epoch\)",
        " (одно значение функции потерь до обучения и по одному после каждой эпохи)",
    ),
    (
        r"\bw0 was changed in place; start from a copy \(w0\.clone\(\)\)",
        "тензор w0 был изменён на месте; начинайте с копии (w0.clone())",
    ),
    (
        r"the returned w is the caller's w0 itself \(it shares its memory\); return a new tensor",
        "возвращённый w — это сам w0 вызывающего кода (у них общая память); верните новый тензор",
    ),
    (
        r" \(if the gradient step is right, check the shuffling: every epoch, when batch_size < n, "
        r"draw the order with (torch\.randperm\(n, generator=generator\)) and use every batch of it, "
        r"the last partial one too\)",
        r" (если шаг градиентного спуска верен, проверьте перемешивание: в каждой эпохе при batch_size < n "
        r"берите порядок из \1 и используйте все его батчи, включая последний неполный)",
    ),
    (
        r" for large \|z\|: e\^\(−z\) overflows for z < −(\d+) in float64, −(\d+) in float32 "
        r"\(and e\^z for z > (\d+), (\d+)\)",
        r" при больших |z|: e^(−z) переполняется при z < −\1 во float64 и при z < −\2 во float32 "
        r"(а e^z — при z > \3 и z > \4 соответственно)",
    ),
]

_HW2 = [
    # Linear
    (
        r"gradients\(\) returned (-?\d+) tensors, expected (\d+) \((\[.*?\]), in the order of parameters\(\)\)",
        r"число тензоров, которые вернул gradients(): \1, а ожидалось \2 (\3, в порядке parameters())",
    ),
    (r": ∂L/∂W has the shape of W \(xᵀ g, not gᵀ x\)", ": ∂L/∂W имеет форму W (xᵀ g, а не gᵀ x)"),
    (r": (∂L/∂\w+)( = g Wᵀ)? has the shape of (\w+)", r": \1\2 имеет форму \3"),
    (
        r"; the gradients add up across backward calls: overwrite dW and db each time",
        "; градиенты накапливаются от вызова к вызову backward: каждый раз перезаписывайте dW и db",
    ),
    (
        r"; dW and db were left as the previous backward made them",
        "; dW и db остались такими, какими их сделал предыдущий вызов backward",
    ),
    (r"; it is the transpose of ∂L/∂W = xᵀ g", "; это транспонированный ∂L/∂W = xᵀ g"),
    (
        r"; it is the mean over the rows of the batch; ∂L/∂b = Σᵢ gᵢ, the sum",
        "; это среднее по строкам батча, а ∂L/∂b = Σᵢ gᵢ — сумма",
    ),
    (
        r"; it is (\S+) × the right values everywhere: a missing or extra factor or sign\?",
        r"; это \1 × правильные значения во всех элементах: пропущен или лишний множитель или знак?",
    ),
    (r" \(second forward/backward\)$", " (второй проход forward/backward)"),
    (r"; the bias is missing: y = x W \+ b", "; не хватает смещения: y = x W + b"),
    (r"; it is g W, not g Wᵀ", "; это g W, а не g Wᵀ"),
    (
        r"with need_input_grad=False backward returned (.+?); it returns None "
        r"\(∂L/∂x is skipped: the data needs no gradient\)",
        r"при need_input_grad=False backward вернул \1, а должен возвращать None "
        r"(∂L/∂x не вычисляется: градиент по данным не нужен)",
    ),
    (r"with need_input_grad=False: ", "при need_input_grad=False: "),
    (
        r"forward or backward changed its input x in place",
        "forward или backward изменил входной тензор x на месте",
    ),
    (
        r"forward or backward changed the input x in place",
        "forward или backward изменил входной тензор x на месте",
    ),
    (
        r"forward or backward changed W or b: only the optimizer step may",
        "forward или backward изменил W или b, а это может делать только шаг оптимизатора",
    ),
    (
        r"forward or backward changed pred or target in place",
        "forward или backward изменил pred или target на месте",
    ),
    # activations
    (
        r" for large \|x\|: e\^x overflows for x > (\d+); exponentiate only −\|x\|",
        r" при больших |x|: e^x переполняется при x > \1; возводите e в степень только −|x|",
    ),
    (
        r"forward changed its input x in place \(the layer below keeps x for its own backward\): "
        r"return a new tensor",
        "forward изменил входной тензор x на месте (слой ниже хранит x для своего backward): "
        "верните новый тензор",
    ),
    (
        r" \(∂L/∂x = g ⊙ f'\(x\) with f'\(x\) = 1 for x > 0, 0 for x ≤ 0\)",
        " (∂L/∂x = g ⊙ f'(x), где f'(x) = 1 при x > 0 и 0 при x ≤ 0)",
    ),
    (r" \(∂L/∂x = g ⊙ f'\(x\) with (.+?)\)$", r" (∂L/∂x = g ⊙ f'(x), где \1)"),
    (
        r"backward changed the input x of forward in place",
        "backward изменил на месте входной тензор x метода forward",
    ),
    (
        r"backward changed the output y that forward returned, in place \(the layer above keeps y as "
        r"its input\): compute f'\(x\) into a new tensor, or overwrite grad_output",
        "backward изменил на месте выход y, который вернул forward (слой выше хранит y как свой вход): "
        "вычисляйте f'(x) в новый тензор или перезаписывайте grad_output",
    ),
    (
        r"forward returned x itself or a view of it \(the output changed when the caller later changed "
        r"x\): return a new tensor",
        "forward вернул сам x или его представление (view): выход изменился, когда вызывающий код "
        "позже изменил x; верните новый тензор",
    ),
    (
        r"; at x = 0 the derivative is 0 \(PyTorch's choice\): pass g only where x > 0",
        "; в точке x = 0 производная равна 0 (так принято в PyTorch): пропускайте g только там, где x > 0",
    ),
    (
        r"; f'\(x\) is 0 or 1, never −1: multiply by \(x > 0\), not by sign\(x\)",
        "; f'(x) равна 0 или 1, но никогда не −1: умножайте на (x > 0), а не на sign(x)",
    ),
    (
        r"; backward returned (\S+) alone: multiply it by grad_output",
        r"; backward вернул только \1: умножьте её на grad_output",
    ),
    (
        r"; the gradient passes where x < 0 too: there f'\(x\) = 0",
        "; градиент проходит и там, где x < 0, а там f'(x) = 0",
    ),
    (r"; σ'\(x\) = σ\(x\)\(1 − σ\(x\)\), not σ\(x\)", "; σ'(x) = σ(x)(1 − σ(x)), а не σ(x)"),
    (
        r"; σ' was taken of the output y = σ\(x\) instead of x: use y\(1 − y\) with the stored y",
        "; σ' взята от выхода y = σ(x), а не от x: используйте y(1 − y) с сохранённым y",
    ),
    (
        r"; the sign is wrong: σ'\(x\) = σ\(x\)\(1 − σ\(x\)\) ≥ 0",
        "; неверный знак: σ'(x) = σ(x)(1 − σ(x)) ≥ 0",
    ),
    (
        r"; tanh'\(x\) = 1 − tanh²\(x\): the square is missing",
        "; tanh'(x) = 1 − tanh²(x): пропущен квадрат",
    ),
    (
        r"; tanh'\(x\) = 1 − y² in the output y = tanh\(x\), not 1 − x²",
        "; tanh'(x) = 1 − y², где y = tanh(x) — выход, а не 1 − x²",
    ),
    (
        r"; tanh' was taken of the output y instead of x: use 1 − y² with the stored y",
        "; tanh' взята от выхода y, а не от x: используйте 1 − y² с сохранённым y",
    ),
    (
        r"; tanh'\(x\) = 1 − tanh²\(x\), not 1 \+ tanh²\(x\)",
        "; tanh'(x) = 1 − tanh²(x), а не 1 + tanh²(x)",
    ),
    # MSELoss
    (
        r"forward got pred of shape (\([\d, ]*\)) and target of shape (\([\d, ]*\)) and did not raise a "
        r"ValueError: broadcasting would make pred − target (\([\d, ]*\)); the shapes must be equal "
        r"\(the provided _check_pair checks that\)",
        r"forward получил pred формы \1 и target формы \2 и не выбросил ValueError: при broadcasting "
        r"разность pred − target имела бы форму \3; формы должны совпадать (это проверяет готовая функция "
        r"_check_pair)",
    ),
    (
        r"forward got pred of shape (\([\d, ]*\)) and target of shape (\([\d, ]*\))(?= and | и )",
        r"forward получил pred формы \1 и target формы \2",
    ),
    (r" and accepted them(?=: broadcasting)", " и принял их"),
    (
        r": broadcasting would make pred − target (\([\d, ]*\)), so raise a ValueError "
        r"\(the provided _check_pair does\)$",
        r": при broadcasting разность pred − target имела бы форму \1, поэтому выбросьте ValueError "
        r"(так и делает готовая функция _check_pair)",
    ),
    (
        r": the loss is one number, a 0-d tensor \(the mean over all N elements\)",
        ": значение функции потерь — одно число, 0-мерный тензор (среднее по всем N элементам)",
    ),
    (
        r"; that is the sum of the squares: divide by N, the number of elements",
        "; это сумма квадратов: разделите на N — число элементов",
    ),
    (r"; that is the RMSE: no square root", "; это RMSE: квадратный корень не нужен"),
    (
        r"; that is the mean absolute error: square the differences",
        "; это средняя абсолютная ошибка: возведите разности в квадрат",
    ),
    (
        r"; it is 2\(pred − target\): divide by N, the number of elements",
        "; это 2(pred − target): разделите на N — число элементов",
    ),
    (
        r"; it is \(pred − target\)/N: the factor 2 of the square's derivative is missing",
        "; это (pred − target)/N: пропущен множитель 2 из производной квадрата",
    ),
    (
        r"; it is 2/N \(target − pred\): the sign is wrong",
        "; это 2/N (target − pred): неверный знак",
    ),
    (
        r"; it is divided by the n rows, not by the N = n·k elements",
        "; здесь деление на n строк, а не на N = n·k элементов",
    ),
    # Sequential
    (
        r"backward called the layers' backward in the order (\[[\d, ]*\]); expected (\[[\d, ]*\]): each "
        r"once, last to first, each on the gradient the one above returned",
        r"backward вызвал backward слоёв в порядке \1, а ожидался порядок \2: каждый по одному разу, "
        r"от последнего к первому, каждый — на градиенте, который вернул слой выше",
    ),
    (
        r"forward called the layers in the order (\[[\d, ]*\]); expected (\[[\d, ]*\]), each once, first "
        r"to last, each on the output of the one before",
        r"forward вызвал слои в порядке \1, а ожидался порядок \2: каждый по одному разу, от первого "
        r"к последнему, каждый — на выходе предыдущего",
    ),
    (
        r"backward called only the layers (\[[\d, ]*\]); expected (\[[\d, ]*\])",
        r"backward вызвал только слои \1, а ожидались \2",
    ),
    (r"a Linear layer's gradients were not filled in", "градиенты слоя Linear не заполнены"),
    # MLPRegressor
    (
        r"train must return self, so that model\.train\(X, y\)\.predict\(X\) works",
        "train должен возвращать self, чтобы работало model.train(X, y).predict(X)",
    ),
    (
        r"parameters\(\) (before training|after one epoch|after training) holds (\d+) tensors, expected "
        r"(\d+): a Linear \(W and b\) for each pair of consecutive widths (\([\d, ]*\))",
        r"parameters() \1 содержит тензоров: \2, а ожидалось \3: по слою Linear (W и b) на каждую пару "
        r"соседних ширин \4",
    ),
    (
        r"two trainings with the same random_state started from different weights: draw them from the "
        r"generator that _train passes to _build_network",
        "два обучения с одним и тем же random_state начались с разных весов: генерируйте их "
        "генератором, который _train передаёт в _build_network",
    ),
    (
        r"the loss before training is not the MSE of the initial network: check the network "
        r"\(Linear → ACTIVATIONS\[activation\]\(\) → … → Linear, nothing after the last Linear\) and the "
        r"targets' shape \(n,\) → \(n, 1\)",
        "значение функции потерь до обучения — не MSE начальной сети: проверьте сеть "
        "(Linear → ACTIVATIONS[activation]() → … → Linear, после последнего Linear ничего нет) "
        "и форму целевых значений (n,) → (n, 1)",
    ),
    (
        r" was never updated \(update every parameter in place: p -= η·g\)",
        " ни разу не был обновлён (обновляйте каждый параметр на месте: p -= η·g)",
    ),
    (
        r" moved up the gradient (after one epoch|after training): p ← p − η ∂L/∂p, not p \+ η ∂L/∂p",
        r" \1 сдвинулся по градиенту, а не против него: p ← p − η ∂L/∂p, а не p + η ∂L/∂p",
    ),
    (
        r" moved (after one epoch|after training) by (\S+) × the right step η ∂L/∂p",
        r" \1 сдвинулся на \2 × правильный шаг η ∂L/∂p",
    ),
    (
        r" differs from the reference's (after one epoch|after training), from the same initial weights",
        r" \1 отличается от эталона, хотя начальные веса те же",
    ),
    (
        r" \(in mini-batch mode the rows' order is drawn from the same generator after the weights\)",
        " (в режиме мини-батчей порядок строк берётся из того же генератора после весов)",
    ),
    (
        r" from the same initial weights: check the step p ← p − η ∂L/∂p of every parameter",
        " при тех же начальных весах: проверьте шаг p ← p − η ∂L/∂p для каждого параметра",
    ),
    (
        r": predict returns one number per row, \(m,\)",
        ": predict возвращает по одному числу на строку, форма (m,)",
    ),
    (
        r": predict returns \(m,\) for every m, \(1,\) for one row \(reshape, not squeeze\)",
        ": predict возвращает (m,) при любом m, то есть (1,) для одной строки (reshape, а не squeeze)",
    ),
    (r"train changed X or y in place", "train изменил X или y на месте"),
    (
        r"the initial (\w) of layer (\d+) is not the reference's: create the layers with "
        r"(Linear\(fan_in, fan_out, init=init, generator=generator, device=X\.device, dtype=X\.dtype\)) "
        r"first to last, init as _build_network's docstring says",
        r"начальное значение \1 слоя \2 не совпадает с эталонным: создавайте слои через \3 от первого "
        r"к последнему, с init, как описано в docstring _build_network",
    ),
]

_HW3 = [
    # optimizers
    (
        r" subclasses ("
        + _E
        + r"): write the update yourself \(subclass only torch\.optim\.Optimizer, "
        r"for the bookkeeping, as the provided _Zoo does\)",
        r" наследует \1: напишите обновление сами (наследуйте только torch.optim.Optimizer — ради "
        r"служебной части, как это делает готовый _Zoo)",
    ),
    (
        r"(\w+\(params, \.\.\.\)) gave (.+?), expected an optimizer with a step\(\) method",
        r"\1 вернул \2, а ожидался оптимизатор с методом step()",
    ),
    (
        r"after step (\d+) the parameters could not be read as numbers \(a tensor without storage, or "
        r"no longer a tensor\?\)",
        r"после шага \1 параметры не удалось прочитать как числа (тензор без хранилища или уже "
        r"не тензор?)",
    ),
    (
        r": a square root of a negative number, or a division by 0\?",
        ": квадратный корень из отрицательного числа или деление на 0?",
    ),
    (
        r"the parameter groups could not be read after a step \(group\[\.\.\.\] changed\?\)",
        "группы параметров не удалось прочитать после шага (group[...] был изменён?)",
    ),
    (
        r"step (\d+) changed the group's ('\w+'): read the hyper-parameters from group, never write them "
        r"\(a decayed rate goes into a local variable\)",
        r"шаг \1 изменил \2 группы: гиперпараметры из group только читайте, никогда не записывайте "
        r"(уменьшенную скорость обучения храните в локальной переменной)",
    ),
    (
        r"p\.grad was changed in place \(or could not be read back\): leave it alone",
        "p.grad был изменён на месте (или его не удалось прочитать): не трогайте его",
    ),
    (
        r"p\.grad was changed in place at step (\d+): leave it alone \(weight decay makes a new tensor "
        r"g \+ λθ, e\.g\. (grad = grad\.add\(p, alpha=λ\))\)",
        r"p.grad был изменён на месте на шаге \1: не трогайте его (затухание весов создаёт новый "
        r"тензор g + λθ, например \2)",
    ),
    (
        r"the gradient handed to step (\d+) was changed by a later step: the state holds p\.grad itself "
        r"\(b = grad\), not a copy; store grad\.clone\(\)",
        r"градиент, переданный на шаге \1, был изменён на одном из следующих шагов: состояние хранит "
        r"сам p.grad (b = grad), а не копию; сохраняйте grad.clone()",
    ),
    # the run with p.grad overwritten in place: "<what went wrong> when p.grad is one tensor …"
    (
        r"p\.grad was changed in place at step (\d+)(?= when p\.grad)",
        r"p.grad был изменён на месте на шаге \1",
    ),
    (
        r"p\.grad was changed in place \(or could not be read back\)(?= when p\.grad)",
        "p.grad был изменён на месте (или его не удалось прочитать)",
    ),
    (
        r"the gradient handed to step (\d+) was changed by a later step(?= when p\.grad)",
        r"градиент, переданный на шаге \1, был изменён на одном из следующих шагов",
    ),
    (r"the parameters could not be read(?= when p\.grad)", "параметры не удалось прочитать"),
    (r"the run goes wrong(?= when p\.grad)", "запуск идёт не так"),
    (
        r" when p\.grad is one tensor that the caller overwrites in place between steps",
        ", когда p.grad — один тензор, который вызывающий код перезаписывает на месте между шагами",
    ),
    (
        r" \(as zero_grad\(set_to_none=False\) and gradient accumulation do\): the state holds p\.grad "
        r"itself, not a copy; store grad\.clone\(\)",
        " (так бывает при zero_grad(set_to_none=False) и накоплении градиентов): состояние хранит "
        "сам p.grad, а не копию; сохраняйте grad.clone()",
    ),
    (
        r"after step (\d+) the parameters have not moved: update each p in place "
        r"\(p\.add_, p\.addcdiv_, …\); p = p − … only rebinds a local name",
        r"после шага \1 параметры не сдвинулись: обновляйте каждый p на месте "
        r"(p.add_, p.addcdiv_, …); p = p − … лишь заново связывает локальное имя",
    ),
    (
        r"after step (\d+) of (\d+) \(defaults(, float32)?\) an element of parameter (\d+) differs from "
        r"(torch\.optim\.\w+) by (\S+) of the distance it travelled \(tolerance (\S+)\): ",
        r"после шага \1 из \2 (значения по умолчанию\3) элемент параметра \4 отличается от \5 "
        r"на \6 длины пройденного им пути (допуск \7): ",
    ),
    (
        r"after step (\d+) of (\d+) \((.+?)\) an element of parameter (\d+) differs from "
        r"(torch\.optim\.\w+) by (\S+) of the distance it travelled \(tolerance (\S+)\): ",
        r"после шага \1 из \2 (\3) элемент параметра \4 отличается от \5 на \6 длины пройденного им пути "
        r"(допуск \7): ",
    ),
    # the hints of a trajectory that parts from torch.optim's (each ends the message, with "?")
    (
        r": the lr changed before this step: PyTorch's buffer b ← μb \+ g holds gradients, not steps, "
        r"and the whole of it is multiplied by the current lr \(the lecture's v ← βv − αg keeps the old "
        r"rates\)\?$",
        ": перед этим шагом изменилась скорость обучения lr: буфер PyTorch b ← μb + g хранит "
        "градиенты, а не шаги, и целиком умножается на текущую lr (в формуле лекции v ← βv − αg "
        "остаются старые скорости)?",
    ),
    (
        r": dampening: b₁ = g₁ at the first step \(not damped\), b ← μb \+ \(1 − τ\)g after it\?$",
        ": dampening: на первом шаге b₁ = g₁ (без подавления), после него b ← μb + (1 − τ)g?",
    ),
    (
        r": weight decay: g ← g \+ λθ first, then the momentum buffer\?$",
        ": затухание весов: сначала g ← g + λθ, затем буфер импульса?",
    ),
    (
        r": Nesterov in PyTorch's form: θ ← θ − γ\(g \+ μb\), with the new b\?$",
        ": Нестеров в форме PyTorch: θ ← θ − γ(g + μb) с новым b?",
    ),
    (
        r": weight decay: g ← g \+ λθ before the buffer sees g\?$",
        ": затухание весов: g ← g + λθ до того, как g попадёт в буфер?",
    ),
    (
        r": momentum: b₁ = g₁, then b ← μb \+ g, and θ ← θ − γb\?$",
        ": импульс: b₁ = g₁, затем b ← μb + g и θ ← θ − γb?",
    ),
    (r": plain SGD: θ ← θ − γg\?$", ": обычный SGD: θ ← θ − γg?"),
    (
        r": lr decay: γ̃ = γ / \(1 \+ \(t − 1\)η\), t counted from 1 \(no decay at the first step\)\?$",
        ": затухание lr: γ̃ = γ / (1 + (t − 1)η), t отсчитывается от 1 (на первом шаге затухания нет)?",
    ),
    (
        r": the sum starts at initial_accumulator_value\?$",
        ": сумма начинается с initial_accumulator_value?",
    ),
    (
        r": weight decay: g ← g \+ λθ before the sum of squares\?$",
        ": затухание весов: g ← g + λθ до суммы квадратов?",
    ),
    (
        r": state_sum ← state_sum \+ g², θ ← θ − γ̃ g / \(√state_sum \+ ε\): squares, ε outside the root\?$",
        ": state_sum ← state_sum + g², θ ← θ − γ̃ g / (√state_sum + ε): квадраты, ε вне корня?",
    ),
    (
        r": centered: g_ave ← αg_ave \+ \(1 − α\)g, and divide by √\(v − g_ave²\) \+ ε\?$",
        ": centered: g_ave ← αg_ave + (1 − α)g, и делите на √(v − g_ave²) + ε?",
    ),
    (
        r": momentum: b ← μb \+ g / \(√v \+ ε\), θ ← θ − γb\?$",
        ": импульс: b ← μb + g / (√v + ε), θ ← θ − γb?",
    ),
    (
        r": weight decay: g ← g \+ λθ before the square average\?$",
        ": затухание весов: g ← g + λθ до среднего квадратов?",
    ),
    (
        r": v ← αv \+ \(1 − α\)g² \(α weighs the old average\), θ ← θ − γ g / \(√v \+ ε\): ε outside the root\?$",
        ": v ← αv + (1 − α)g² (α — вес старого среднего), θ ← θ − γ g / (√v + ε): ε вне корня?",
    ),
    (
        r": decoupled weight decay: θ ← θ − γλθ first, with the current γ, then the Adam step\?$",
        ": раздельное затухание весов: сначала θ ← θ − γλθ с текущим γ, затем шаг Adam?",
    ),
    (
        r": L2 weight decay: g ← g \+ λθ before both moments\?$",
        ": затухание весов L2: g ← g + λθ до обоих моментов?",
    ),
    (
        r": AMSGrad: v_max ← max\(v_max, v\) on the raw v, then divide by √\(v_max/\(1 − β₂ᵗ\)\) \+ ε\?$",
        ": AMSGrad: v_max ← max(v_max, v) по исходному v, затем делите на √(v_max/(1 − β₂ᵗ)) + ε?",
    ),
    (
        r": bias correction m/\(1 − β₁ᵗ\), v/\(1 − β₂ᵗ\) with t = 1 at a parameter's first step, "
        r"ε outside the root\?$",
        ": поправка на смещение m/(1 − β₁ᵗ), v/(1 − β₂ᵗ) с t = 1 на первом шаге параметра, ε вне корня?",
    ),
    (
        r": bias correction with t counted per parameter from 1, ε added after the root\?$",
        ": поправка на смещение, t отсчитывается для каждого параметра от 1, ε прибавляется после корня?",
    ),
    (
        r": a small difference: state kept in float32 \(torch\.zeros\(shape\) is float32, "
        r"torch\.zeros_like\(p\) is not\), or ε inside the root instead of outside\?$",
        ": небольшое расхождение: состояние хранится во float32 (torch.zeros(shape) — это float32, "
        "а torch.zeros_like(p) — нет) или ε стоит под корнем, а не вне его?",
    ),
    # schedules
    (
        r"returned (.+?) at step (\d+), expected a float",
        r"на шаге \2 возвращён \1, а ожидался float",
    ),
    (
        r"the rate at step (\d+) is off by (\S+) of base_lr \(tolerance (\S+)\): float32 arithmetic "
        r"somewhere\? Compute with Python floats",
        r"скорость обучения на шаге \1 отличается от точной на \2 в долях base_lr (допуск \3): где-то "
        r"вычисления во float32? Считайте в числах float языка Python",
    ),
    (
        r"the rate at step (\d+) is (\S+), expected (\S+): ",
        r"скорость обучения на шаге \1 равна \2, а ожидалось \3: ",
    ),
    (r"the rate at step (\d+) is (\S+)$", r"скорость обучения на шаге \1 равна \2"),
    (
        r": base_lr · γ\^⌊t / step_size⌋ \(floor, counted from t = 0\)\?$",
        ": base_lr · γ^⌊t / step_size⌋ (с округлением вниз, отсчёт от t = 0)?",
    ),
    (
        r": base_lr · \(s \+ \(1 − s\) · min\(t, W\) / W\): s · base_lr at t = 0, base_lr from t = W on, "
        r"and no warm-up at all for W = 0\?$",
        ": base_lr · (s + (1 − s) · min(t, W) / W): s · base_lr при t = 0, base_lr начиная с t = W "
        "и никакого разогрева при W = 0?",
    ),
    (
        r": η_min \+ \(base_lr − η_min\)\(1 \+ cos\(π min\(t, T\)/T\)\)/2: base_lr at t = 0, η_min "
        r"\(an absolute rate\) from t = T on\?$",
        ": η_min + (base_lr − η_min)(1 + cos(π min(t, T)/T))/2: base_lr при t = 0, η_min "
        "(абсолютное значение скорости) начиная с t = T?",
    ),
    # clip_grad_norm_
    (
        r"with a gradient that is inf or NaN and error_if_nonfinite=True it returned, expected a RuntimeError",
        "при градиенте, содержащем inf или NaN, и error_if_nonfinite=True функция вернула результат, "
        "а ожидалось исключение RuntimeError",
    ),
    (
        r"with a gradient that is inf or NaN and error_if_nonfinite=True(?= было выброшено)",
        "при градиенте, содержащем inf или NaN, и error_if_nonfinite=True",
    ),
    (r"(?<=" + _OUT + r"), expected a RuntimeError$", ", а ожидалось исключение RuntimeError"),
    (
        r"with error_if_nonfinite=True raise instead of clipping: the gradients must come back unchanged",
        "при error_if_nonfinite=True выбрасывайте исключение вместо ограничения нормы: градиенты "
        "должны остаться неизменными",
    ),
    (r"the result is not a floating-point tensor", "результат — не тензор с плавающей точкой"),
    (r"the result is not 0", "результат не равен 0"),
    (r"with no gradient at all: ", "когда градиентов нет совсем: "),
    (r" \(expected a tensor 0\.0\)$", " (ожидался тензор 0.0)"),
    (
        r"with an infinite gradient and error_if_nonfinite=False(?= было выброшено)",
        "при бесконечном градиенте и error_if_nonfinite=False",
    ),
    (
        r"(?<=" + _OUT + r"): raise only when asked to; return the total norm, inf$",
        ": выбрасывайте исключение, только когда об этом просят; верните общую норму, inf",
    ),
    (
        r"with an infinite gradient \(error_if_nonfinite=False\) the total norm returned is not inf",
        "при бесконечном градиенте (error_if_nonfinite=False) возвращённая общая норма не равна inf",
    ),
    (
        r"with an infinite gradient and error_if_nonfinite=False scale as always: "
        r"coef = max_norm / \(inf \+ 1e-6\) = 0, so the gradients become 0 \(NaN where a gradient is "
        r"itself inf\)",
        "при бесконечном градиенте и error_if_nonfinite=False масштабируйте как обычно: "
        "coef = max_norm / (inf + 1e-6) = 0, поэтому градиенты становятся равны 0 (NaN там, где "
        "сам градиент равен inf)",
    ),
    (
        r" \(return the total norm before clipping, a 0-d tensor\)",
        " (верните общую норму до ограничения, 0-мерный тензор)",
    ),
    (
        r" \(the norm of all gradients together, before clipping: ‖\(‖g₁‖_p, …, ‖g_k‖_p\)‖_p, the "
        r"largest \|gᵢ\| for p = ∞\)",
        " (норма всех градиентов вместе, до ограничения: ‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p, а при p = ∞ — "
        "наибольший |gᵢ|)",
    ),
    (
        r"a parameter without a gradient got one: skip p\.grad = None",
        "параметр без градиента получил градиент: пропускайте параметры с p.grad = None",
    ),
    (
        r"p\.grad of parameter (\d+) was replaced by a new tensor: scale the caller's gradient in place "
        r"\(g\.mul_\(coef\)\), as the trailing _ of clip_grad_norm_ says",
        r"p.grad параметра \1 заменён новым тензором: масштабируйте градиент вызывающего кода на месте "
        r"(g.mul_(coef)), как и говорит _ в конце имени clip_grad_norm_",
    ),
    (
        r": scale every gradient in place by (min\(max_norm / \(total \+ 1e-6\), 1\)), one factor for all",
        r": масштабируйте каждый градиент на месте на \1, один множитель для всех",
    ),
]

_HW4 = [
    (
        r" \(f may return a 0-d tensor, a one-element tensor or a float: use float\(f\(x\)\)\)",
        " (f может вернуть 0-мерный тензор, тензор из одного элемента или float: используйте float(f(x)))",
    ),
    (
        r"x is not the same after the call: restore each element to its saved original value "
        r"\(x \+ ε − 2ε \+ ε is not always x in floating point\)",
        "x после вызова изменился: восстанавливайте каждый элемент из сохранённого исходного "
        "значения (в арифметике с плавающей точкой x + ε − 2ε + ε не всегда равно x)",
    ),
    (
        r"when f raises, x must still be restored \(use try/finally\)",
        "если f выбрасывает исключение, x всё равно нужно восстановить (используйте try/finally)",
    ),
    (
        r" \(this is the gradient for the default ε: use the eps argument\)",
        " (это градиент для ε по умолчанию: используйте аргумент eps)",
    ),
    (
        r" \(a central difference \(f\(x \+ ε eᵢ\) − f\(x − ε eᵢ\)\) / 2ε, in float64\?\)",
        " (центральная разность (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε, во float64?)",
    ),
    (
        r" is (.+?), expected a Python float \(convert with float\(\.\.\.\)\)",
        r" — \1, а ожидалось число Python типа float (преобразуйте через float(...))",
    ),
    (
        r" where a and b are both 0: 0/0 must count as 0 \(clamp the denominator\)",
        " там, где a и b оба равны 0: 0/0 должно считаться равным 0 (ограничьте знаменатель снизу)",
    ),
    (r"the result is (-?(?:nan|inf))\b", r"результат равен \1"),
    (r"relative_error changed a or b in place", "функция relative_error изменила a или b на месте"),
    (
        r" \(on float32 inputs: convert a and b to float64 first\)",
        " (на входах float32: сначала преобразуйте a и b во float64)",
    ),
    (
        r"relative_error\(a, b\) differs from relative_error\(b, a\): it must be symmetric",
        "relative_error(a, b) отличается от relative_error(b, a): функция должна быть симметричной",
    ),
    # gradcheck
    (
        r"(?<="
        + _OUT
        + r") on a gradient of (\w+) of the wrong shape: report a failure for that input instead",
        r" на градиенте по \1 неверной формы: вместо этого сообщите, что проверка этого входа не пройдена",
    ),
    (
        r" is (.+?), expected a GradcheckResult \(with \.passed and \.checks, one InputCheck per input\)",
        r" — \1, а ожидался GradcheckResult (с .passed и .checks, по одному InputCheck на каждый вход)",
    ),
    (r"the result has (\d+) checks for (\d+) inputs", r"в результате проверок: \1, а входов: \2"),
    (
        r"gradcheck changed an analytic gradient it was given in place \(work on a copy\)",
        "gradcheck изменил на месте переданный ему аналитический градиент (работайте с копией)",
    ),
    (
        r"no PrecisionWarning on (float\d+) inputs: call the provided _precision_warnings",
        r"нет PrecisionWarning на входах \1: вызовите готовую функцию _precision_warnings",
    ),
    (r"a PrecisionWarning on (float\d+) inputs", r"лишний PrecisionWarning на входах \1"),
    (
        r"the result's warnings must be what _precision_warnings returned \(its message for (float\d+) "
        r"inputs, \(\) for (float\d+)\)",
        r"warnings в результате должны быть тем, что вернула _precision_warnings (её сообщение для "
        r"входов \1, () для \2)",
    ),
    (
        r"the result's (\w+) is not the \1 gradcheck was called with (\(GradcheckResult\(.*?\)\))",
        r"\1 в результате не совпадает с \1, с которым был вызван gradcheck \2",
    ),
    (r"the check failed correct gradients", "проверка отвергла верные градиенты"),
    (
        r"the check passed gradients of W that are twice the true ones",
        "проверка пропустила градиенты по W, вдвое большие истинных",
    ),
    (
        r"the check passed gradients of x with the wrong sign",
        "проверка пропустила градиенты по x с неверным знаком",
    ),
    (
        r"the check passed a transposed gradient of a square W",
        "проверка пропустила транспонированный градиент по квадратной матрице W",
    ),
    (
        r"the check passed gradients of W with three wrong elements",
        "проверка пропустила градиенты по W с тремя неверными элементами",
    ),
    (
        r"the check passed a gradient of W of the wrong shape",
        "проверка пропустила градиент по W неверной формы",
    ),
    (
        r"the check passed a gradient of W with one wrong element",
        "проверка пропустила градиент по W с одним неверным элементом",
    ),
    (
        r"the check passed a gradient of W with one element (\S+)× too large",
        r"проверка пропустила градиент по W, один элемент которого в \1 раза больше верного",
    ),
    (
        r"the check passed a gradient of W with one element off by (\S+) of itself",
        r"проверка пропустила градиент по W, один элемент которого отличается от верного на \1 своей величины",
    ),
    (
        r"the check passed correct gradients with eps = (\S+)",
        r"проверка пропустила верные градиенты при eps = \1",
    ),
    (
        r" \(an element passes when \|analytic − numeric\| ≤ atol \+ rtol·\|numeric\|\)",
        " (элемент проходит проверку, если |analytic − numeric| ≤ atol + rtol·|numeric|)",
    ),
    (
        r" \(each element has its own tolerance atol \+ rtol·\|numericᵢ\|: not one for the whole input, "
        r"and atol and rtol each in its place\)",
        " (у каждого элемента свой допуск atol + rtol·|numericᵢ|, а не один на весь вход, и atol "
        "и rtol — каждый на своём месте)",
    ),
    (
        r" \(is the atol argument used\? here atol = (\S+)\)",
        r" (используется ли аргумент atol? здесь atol = \1)",
    ),
    (
        r" \(is the rtol argument used, times \|numeric\|, not \|analytic\|\? here rtol = (\S+)\)",
        r" (используется ли аргумент rtol и умножается ли он на |numeric|, а не на |analytic|? "
        r"здесь rtol = \1)",
    ),
    (
        r" \(is the rtol argument used\? here rtol = (\S+)\)",
        r" (используется ли аргумент rtol? здесь rtol = \1)",
    ),
    (
        r" \(is eps passed on to numerical_gradient\? with eps = (\S+) its truncation error is far "
        r"outside the tolerance\)",
        r" (передаётся ли eps в numerical_gradient? при eps = \1 его ошибка усечения намного больше "
        r"допуска)",
    ),
    (r" \(here eps = (\S+), atol = rtol = (\S+)\)", r" (здесь eps = \1, atol = rtol = \2)"),
    (r"\binput (\w+): passed, expected fail", r"вход \1: проверка пройдена, а ожидался провал"),
    (r"\binput (\w+): failed, expected pass", r"вход \1: проверка не пройдена, а ожидался успех"),
    (
        r'the InputCheck\'s name is not ("[^"]*"), the name _named gives this input \(the inputs of a '
        r'list or a single tensor are ("input 0", "input 1", …)\)',
        r"name у InputCheck — не \1, то имя, которое _named даёт этому входу (входы, переданные "
        r"списком или одним тензором, называются \2)",
    ),
    (
        r"the InputCheck's shape is not a tuple of ints: expected (\([\d, ]*\)), the input's shape",
        r"shape у InputCheck — не кортеж целых чисел: ожидалась \1, форма входа",
    ),
    (
        r"the InputCheck's shape is (\([\d, ]*\)), expected (\([\d, ]*\)), the input's shape",
        r"shape у InputCheck равна \1, а ожидалась \2, форма входа",
    ),
    (
        r" \(the numerical gradient's, not the analytic gradient's\)",
        " (то есть форма численного градиента, а не аналитического)",
    ),
    (
        r'the diagnosis of an input that passes is not "": leave it empty \(use _diagnose only for a '
        r"failure\)",
        'diagnosis у входа, прошедшего проверку, — не "": оставьте его пустым (вызывайте _diagnose '
        "только при провале проверки)",
    ),
    (
        r"the diagnosis of a gradient of the wrong shape does not name the expected shape "
        r"(\([\d, ]*\)): say both shapes",
        r"diagnosis для градиента неверной формы не называет ожидаемую форму \1: укажите обе формы",
    ),
    (
        r"the diagnosis is not what the provided (_diagnose\(analytic, numeric\)) says of this "
        r"failure \(call it with the analytic and the numerical gradient, in float64\)",
        r"diagnosis не совпадает с тем, что говорит об этом провале готовая функция \1 (вызовите её "
        r"с аналитическим и численным градиентами во float64)",
    ),
    (
        r"the check passed a gradient of W with a NaN element",
        "проверка пропустила градиент по W с элементом NaN",
    ),
    (
        r" \(an element that is NaN fails: a comparison with NaN is False, so test that every element "
        r"is within its tolerance, not that none is outside it\)",
        " (элемент, равный NaN, проверку не проходит: любое сравнение с NaN даёт False, поэтому "
        "проверяйте, что каждый элемент укладывается в свой допуск, а не что ни один за него не выходит)",
    ),
    (
        r"the InputCheck's name is not the input's name \(its key in the dict\)",
        "name у InputCheck не совпадает с именем входа (его ключом в словаре)",
    ),
    (
        r"a gradient of the wrong shape has no worst element: give worst=None",
        "у градиента неверной формы нет худшего элемента: укажите worst=None",
    ),
    (
        r"the worst element reported is (\([\d, -]*\)), expected the element furthest outside its "
        r"tolerance \(the largest \|a − n\| / \(atol \+ rtol·\|n\|\)\)",
        r"худшим назван элемент \1, а ожидался элемент, дальше всех вышедший за свой допуск "
        r"(с наибольшим |a − n| / (atol + rtol·|n|))",
    ),
    (
        r"the worst element's analytic and numeric values are not the two gradients' values at its "
        r"index \(ElementReport\(index, analytic, numeric\)\)",
        "analytic и numeric худшего элемента не совпадают со значениями двух градиентов по его индексу "
        "(ElementReport(index, analytic, numeric))",
    ),
    (
        r"max_abs_error is not the largest \|analytic − numeric\| of its elements",
        "max_abs_error не равен наибольшему |analytic − numeric| по элементам",
    ),
    (r"\binput (\w+): ", r"вход \1: "),
]

# ---------------------------------------------------------------------------------------------------
# The grader's own messages (autograder/grade.py), the scan of an answer cell and a submission that
# cannot be read (autograder/intake.py), an output the probe left unusable (autograder/hostile.py)
# ---------------------------------------------------------------------------------------------------

_GRADER = [
    (r"the answer cell is missing from the submission", "в сданной работе нет ячейки ответа"),
    (
        r"running this answer cell ended the notebook's process \((.+)\)$",
        r"выполнение этой ячейки ответа завершило процесс ноутбука (\1)",
    ),
    (
        r"checking it ended the notebook's process \((.+)\)$",
        r"проверка этого задания завершила процесс ноутбука (\1)",
    ),
    (r"the notebook could not be run \((.+)\)$", r"ноутбук не удалось выполнить (\1)"),
    (
        r"not checked: the submission used up its time \((.+)\)$",
        r"не проверено: работа исчерпала отведённое ей время (\1)",
    ),
    (r"\(the (\S+) s limit of one cell\)$", r"(предел \1 с на одну ячейку)"),
    (r"\(the (\S+) s limit of one task\)$", r"(предел \1 с на одно задание)"),
    (r"\(the time limit of the submission \((\S+) s\)\)$", r"(предел времени на всю работу: \1 с)"),
    (r"\(the wall clock \((\S+) s\)\)$", r"(общий предел времени: \1 с)"),
    (r"\(signal (\w+)\)$", r"(сигнал \1)"),
    (r"\(exit status (-?\d+)\)$", r"(код завершения \1)"),
    (
        r"(\w+) is not defined after running the answer cells$",
        r"имя \1 не определено после выполнения ячеек ответов",
    ),
    (r"took longer than (\S+) s$", r"проверка заняла больше \1 с"),
    (r"was not checked \(the run stopped\)$", "не проверено (запуск остановился)"),
    (r"was not checked \(crashed\)$", "не проверено (аварийное завершение)"),
    (r"was not checked \(forbidden\)$", "не проверено (запрещённое использование)"),
    (r"was not checked \((\w+)\)$", r"не проверено (\1)"),
    (
        r"used what this homework forbids, and it was refused at run time when another task called "
        r"it; 0 points, for review",
        "использует то, что запрещено в этом домашнем задании, и вызов был заблокирован во время "
        "выполнения, когда его вызвало другое задание; 0 баллов, передано преподавателю на проверку",
    ),
    # the probe's output, unusable (zero(str(out)))
    (r"(?<=: )no output$", "нет выходных данных пробы"),
    (r"the output is not an \.npz archive", "выходные данные пробы — не архив .npz"),
    (
        r"the output holds more than (\d+) arrays",
        r"выходные данные пробы содержат больше \1 массивов",
    ),
    (
        r"the output holds something other than arrays",
        "выходные данные пробы содержат не только массивы",
    ),
    (r"the output's arrays are too large", "массивы в выходных данных пробы слишком велики"),
    (r"the output is truncated", "выходные данные пробы обрезаны"),
    (r"the output could not be read", "выходные данные пробы не удалось прочитать"),
    (r"the output ([\w.-]+): ", r"выходные данные пробы \1: "),
    (
        r"(?<=: )a symbolic link on its path \(refused\)$",
        "на пути к файлу есть символическая ссылка (отклонено)",
    ),
    (r"(?<=: )not a regular file$", "не обычный файл"),
    (r"(?<=: )(\d+) bytes, over the (\d+)-byte limit$", r"\1 байт при пределе \2 байт"),
    (r"(?<=: )over the (\d+)-byte limit$", r"больше предела в \1 байт"),
    (
        r"(?<=: )a path through something that is not a folder$",
        "путь проходит через что-то, что не является папкой",
    ),
    (r"(?<=: )cannot be opened \(", "не удаётся открыть ("),
    # the answer cell's scan: "the answer uses <reasons> (0 points; for review)"
    (
        r"the answer uses (.+) \(0 points; for review\)$",
        r"в ответе есть недопустимое: \1 (0 баллов; передано преподавателю на проверку)",
    ),
    (r"\bcopy (\d+) of (\d+), ", r"копия \1 из \2, "),
    (
        r"\bline (\d+): an IPython magic or shell command \(",
        r"строка \1: магическая команда IPython или команда оболочки (",
    ),
    (r"\bline (\d+): a syntax error \(", r"строка \1: синтаксическая ошибка ("),
    (
        r"the cell is nested too deeply to be read \((\w+)\)",
        r"вложенность ячейки слишком глубока для чтения (\1)",
    ),
    (r"\bline (\d+): imports ([\w.]+): ", r"строка \1: импорт \2: "),
    (r"\bline (\d+): uses ([\w.]+) \(introspection\)", r"строка \1: использует \2 (интроспекция)"),
    (
        r"\bline (\d+): uses torch\.optim's optimizers \(",
        r"строка \1: использует оптимизаторы torch.optim (",
    ),
    (
        r"\bline (\d+): uses torch\.nn\.utils' clipping \(",
        r"строка \1: использует ограничение нормы из torch.nn.utils (",
    ),
    (r"\bline (\d+): uses ", r"строка \1: использует "),
    (r"\bline (\d+): ([\w.]+) with a computed name", r"строка \1: \2 с вычисляемым именем"),
    (r"\bline (\d+): a global statement \(", r"строка \1: оператор global ("),
    # what an import or a call of the scan stands for (autograder/intake.py)
    *[
        (r"(?<=: )" + en + r"(?=; |$| \(0 )", ru)
        for en, ru in [
            (r"ctypes \(raw memory access\)", "прямой доступ к памяти"),
            (r"sockets \(the network\)", "сокеты, то есть сеть"),
            (r"the network", "сеть"),
            (r"running other programs", "запуск других программ"),
            (r"starting processes", "запуск процессов"),
            (r"signal handlers", "обработчики сигналов"),
            (
                r"gc \(reaching other objects through the garbage collector\)",
                "доступ к чужим объектам через сборщик мусора",
            ),
            (
                r"inspect \(reading the grader's frames and source\)",
                "чтение кадров стека и исходного кода грейдера",
            ),
            (
                r"importlib \(importing by a computed name\)",
                "импорт по вычисляемому имени",
            ),
            (
                r"builtins \(replacing Python's own functions\)",
                "подмена встроенных функций Python",
            ),
            (r"IPython \(hooks into the kernel\)", "вмешательство в работу ядра"),
            (r"the grader's own modules", "собственные модули грейдера"),
            (r"the reference solutions", "эталонные решения"),
            (r"pickle \(code in data\)", "код внутри данных"),
            (r"marshal \(code in data\)", "код внутри данных"),
            (r"file-system operations", "операции с файловой системой"),
            (r"a terminal", "терминал"),
            (r"resource limits", "ограничения ресурсов"),
            (r"threads", "потоки"),
            (r"a database \(the gradebook\?\)", "база данных (журнал оценок?)"),
            (r"searching the file system", "поиск по файловой системе"),
            (r"the file system", "файловая система"),
            (r"files", "файлы"),
        ]
    ],
    *[
        (r"(?<=: использует )" + en + r"(?=; |$| \(0 )", ru)
        for en, ru in [
            (r"deleting files", "удаление файлов"),
            (r"listing folders", "просмотр содержимого папок"),
            (r"the environment", "переменные окружения"),
            (
                r"sys\._getframe \(reading the grader's frames\)",
                "sys._getframe (чтение кадров стека грейдера)",
            ),
            (r"replacing sys\.stdout", "подмена sys.stdout"),
            (r"replacing sys\.stderr", "подмена sys.stderr"),
            (r"get_ipython \(hooks into the kernel\)", "get_ipython (вмешательство в работу ядра)"),
            (r"open \(files: an answer needs none\)", "open (файлы: ответу они не нужны)"),
        ]
    ],
    # a submission that cannot be read as a notebook (every task's message)
    (r"(?<=" + _OUT + r"): not a readable notebook: ", ": не удаётся прочитать как ноутбук: "),
    (r"(?<=" + _OUT + r"): no such file$", ": файл не найден"),
    (r"(?<=" + _OUT + r"): not a regular file$", ": не обычный файл"),
    (r"(?<=: )empty file$", "пустой файл"),
    (
        r"(?<=: )not UTF-8 \(UTF-16 text\? save the notebook from Jupyter\)$",
        "не UTF-8 (текст в UTF-16? сохраните ноутбук из Jupyter)",
    ),
    (
        r"(?<=: )not UTF-8 \(binary data, not a notebook\)$",
        "не UTF-8 (двоичные данные, а не ноутбук)",
    ),
    (
        r"(?<=: )too large \((.+?), over the (.+?) cap of a notebook; clear the outputs and save it again\)$",
        r"слишком большой файл (\1 при пределе \2 для ноутбука; очистите выводы ячеек и сохраните его снова)",
    ),
    (
        r"(?<=: )nested deeper than (\d+) levels \(a notebook is about 8 deep\): crafted, not written by Jupyter$",
        r"вложенность глубже \1 уровней (у ноутбука около 8): файл составлен вручную, а не записан Jupyter",
    ),
    (
        r"(?<=: )too many JSON values \(about (\d+), over the cap of (\d+); clear the outputs and save it again\)$",
        r"слишком много значений JSON (около \1 при пределе \2; очистите выводы ячеек и сохраните файл снова)",
    ),
    (r"(?<=: )not JSON \(", "не JSON ("),
    (
        r"(?<=" + _OUT + r") at line (\d+), column (\d+); truncated\?\)$",
        r" в строке \1, столбце \2; файл обрезан?)",
    ),
    (
        r"(?<=: )not a notebook \(JSON without an 'nbformat' version\)$",
        "не ноутбук (JSON без версии 'nbformat')",
    ),
    (
        r"(?<=: )too many cells \((\d+), over the cap of (\d+)\)$",
        r"слишком много ячеек (\1 при пределе \2)",
    ),
    (
        r"(?<=: )not a notebook \(nbformat version (\S+) does not exist\)$",
        r"не ноутбук (версии nbformat \1 не существует)",
    ),
    (
        r"(?<=: )not a notebook \(its 'cells' is not a list\)$",
        "не ноутбук (его 'cells' — не список)",
    ),
    (r"(?<=: )not a notebook \((\w+) while reading it\)$", r"не ноутбук (\1 при чтении)"),
    (r"(?<=: )not a notebook \((?=" + _IN + ")", "не ноутбук ("),
    (
        r"(?<=: )cell (\d+) holds (\d+) characters, over the cap of (\d+)$",
        r"ячейка \1 содержит \2 символов при пределе \3",
    ),
    (r"(?<=: )unreadable file \((?=" + _IN + ")", "файл не читается ("),
]

# ---------------------------------------------------------------------------------------------------
# 3. The fragments the checks share: predicates, then types, then subjects
# ---------------------------------------------------------------------------------------------------

_KIND_RU = r"(объект типа [\w.]+|объект класса, определённого в ноутбуке)"

_SHARED = [
    # compare(): the values against the reference
    (
        r": max relative error (\S+) against the reference \(tolerance (\S+) relative \+ (\S+) absolute\)",
        r": максимальная относительная ошибка \1 по сравнению с эталоном "
        r"(допуск: относительный \2 + абсолютный \3)",
    ),
    (
        r": max relative error (\S+) against the reference \(tolerance (\S+) relative \+ the absolute "
        r"part the task states\)",
        r": максимальная относительная ошибка \1 по сравнению с эталоном "
        r"(допуск: относительный \2 + абсолютная часть, указанная в задании)",
    ),
    (
        r": max relative error (\S+) against the reference \(tolerance (\S+)\)",
        r": максимальная относительная ошибка \1 по сравнению с эталоном (допуск \2)",
    ),
    # the type of a value (a_kind): "a NoneType", and a class the notebook defines
    # expect_tensor()
    (r" is " + _KIND_RU + r", expected a torch\.Tensor", r" — \1, а ожидался torch.Tensor"),
    (
        r" has dtype (\S+), expected (\S+) \(the dtype of the inputs\)",
        r" имеет тип данных \1, а ожидался \2 (тип данных входных тензоров)",
    ),
    (
        r" has dtype (\S+), expected (\S+) \(the gradients' dtype\)",
        r" имеет тип данных \1, а ожидался \2 (тип данных градиентов)",
    ),
    (
        r" has dtype (\S+), expected (\S+) \(its dtype before the run\)",
        r" имеет тип данных \1, а ожидался \2 (его тип данных до запуска)",
    ),
    (r" has dtype (\S+), expected (\S+)", r" имеет тип данных \1, а ожидался \2"),
    (r" could not be read as numbers", " не удалось прочитать как числа"),
    (r" has shape (\([\d, ]*\)), expected (\([\d, ]*\))", r" имеет форму \1, а ожидалась \2"),
    (
        r" holds (\d+) NaN or infinite value\(s\)",
        r" содержит NaN или бесконечные значения (всего: \1)",
    ),
    # the subjects of those predicates: what is checked
    (r"(?<=: )the result\b", "результат"),
    (r"(?<=: )the output x W \+ b", "выход x W + b"),
    (r"(?<=: )the output f\(x\)", "выход f(x)"),
    (r"(?<=: )the output\b", "выход"),
    (r"(?<=: )the loss\b", "значение функции потерь"),
    (r"(?<=: )the gradient of (\w+)", r"градиент по \1"),
    (r"(?<=: )the gradient\b", "градиент"),
    (r"(?<=: )the weights\b", "веса"),
    (r"(?<=: )the relative error\b", "относительная ошибка"),
    (r"(?<=: )the total norm returned\b", "возвращённая общая норма"),
    (r"(?<=: )columns 1\.\. \(the features\)", "столбцы 1.. (признаки)"),
    (r"(?<=: )gradient (\d+) after clipping", r"градиент \1 после ограничения нормы"),
    (r"(?<=: )parameter (\d+) after the run", r"параметр \1 после запуска"),
    (r"(?<=: )a Linear layer's gradient\b", "градиент слоя Linear"),
    (r"(?<=: )∂L/∂x \(what backward returns\)", "∂L/∂x (то, что возвращает backward)"),
    (r"(?<=: )predict\(X\) for one row", "predict(X) для одной строки"),
    (r"\b([Wb]) of layer (\d+)", r"\1 слоя \2"),
    (r"(?<=\d )before training\b", "до обучения"),
    (r"(?<=\d )after one epoch\b", "после одной эпохи"),
    (r"(?<=\d )after training\b", "после обучения"),
    (r"(?<=\)) before training\b", " до обучения"),
    (r"(?<=\)) after one epoch\b", " после одной эпохи"),
    (r"(?<=\)) after training\b", " после обучения"),
]

PATTERNS: list[tuple[str, str]] = [
    *_MARK,
    *[
        (pattern + _OUTSIDE, replacement)
        for pattern, replacement in [*_COMMON, *_HW1, *_HW2, *_HW3, *_HW4, *_GRADER, *_SHARED]
    ],
    ("[" + _IN + _OUT + "]", ""),  # the marks around student text, once every pattern has run
]
